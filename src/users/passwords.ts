import { hash, verify } from '@node-rs/argon2';
import { verify as verifyBcrypt } from '@node-rs/bcrypt';

export interface Argon2Cost {
  /** KiB of memory per hash. */
  readonly memoryCost: number;
  /** Passes over that memory. */
  readonly timeCost: number;
}

/** argon2id cost tuned to ~20-50 ms per hash on a 2-core machine (see bench/users.js); hashing runs on the libuv pool. */
export const ARGON2_COST: Argon2Cost = { memoryCost: 47_104, timeCost: 2 };

// `algorithm: 2` is Argon2id (@node-rs/argon2 exports it as an ambient const enum).
const ARGON2ID = { algorithm: 2, parallelism: 1 } as const;

let cost: Argon2Cost = ARGON2_COST;

/**
 * Sets the cost of the hashes written from now on; verification always reads a hash's own cost, so hashes of
 * either cost keep working. For the test suite, whose thousands of hashes would otherwise take most of its CPU.
 */
export function useArgon2Cost(next: Argon2Cost): void {
  cost = next;
}

/**
 * Highest bcrypt cost an imported hash may have. Auth0 hashes passwords with bcrypt at cost 10 (its password
 * hash exports read `$2b$10$…`); every step above doubles the work, and a verification holds a libuv thread
 * for all of it, so a higher cost would let one imported user stall sign-ins (cost 17: ~6 s per check).
 */
export const BCRYPT_MAX_COST = 10;

const BCRYPT_PREFIX = /^\$2[aby]\$/;
/** Modular crypt format: `$2b$`, two-digit cost, `$`, 22 characters of salt and 31 of hash. */
const BCRYPT_HASH = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;

export function hashPassword(password: string): Promise<string> {
  return hash(password, { ...ARGON2ID, ...cost });
}

export interface PasswordCheck {
  readonly ok: boolean;
  /** True when the stored hash is bcrypt (an Auth0 export) and should be replaced by argon2id. */
  readonly needsRehash: boolean;
}

/** The cost of a bcrypt hash, or undefined when `stored` is not one the verifier would accept. */
export function bcryptCost(stored: string): number | undefined {
  const match = BCRYPT_HASH.exec(stored);
  if (!match) return undefined;
  const cost = Number(match[1]);
  return cost >= 4 && cost <= 31 ? cost : undefined;
}

/** Whether `stored` can be checked at a bounded cost: argon2id, or bcrypt of at most BCRYPT_MAX_COST. */
export function isVerifiableHash(stored: string): boolean {
  if (!BCRYPT_PREFIX.test(stored)) return stored.startsWith('$argon2');
  const cost = bcryptCost(stored);
  return cost !== undefined && cost <= BCRYPT_MAX_COST;
}

/**
 * Verifies against argon2id or an imported bcrypt hash, both on libuv's thread pool; never throws for a
 * malformed hash, and never runs a bcrypt hash above BCRYPT_MAX_COST.
 */
export async function checkPassword(password: string, stored: string): Promise<PasswordCheck> {
  if (!isVerifiableHash(stored)) return { ok: false, needsRehash: false };
  try {
    if (BCRYPT_PREFIX.test(stored)) {
      return { ok: await verifyBcrypt(password, stored), needsRehash: true };
    }
    return { ok: await verify(stored, password), needsRehash: false };
  } catch {
    return { ok: false, needsRehash: false };
  }
}
