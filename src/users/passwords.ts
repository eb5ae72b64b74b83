import { hash, verify } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';

/** argon2id cost tuned to ~20-50 ms per hash on a 2-core machine (see bench/users.js); hashing runs on the libuv pool. */
// `algorithm: 2` is Argon2id (@node-rs/argon2 exports it as an ambient const enum).
const ARGON2_OPTIONS = { algorithm: 2, memoryCost: 47_104, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

export interface PasswordCheck {
  readonly ok: boolean;
  /** True when the stored hash is bcrypt (an Auth0 export) and should be replaced by argon2id. */
  readonly needsRehash: boolean;
}

/** Verifies against argon2id or an imported bcrypt hash; never throws for a malformed hash. */
export async function checkPassword(password: string, stored: string): Promise<PasswordCheck> {
  try {
    if (/^\$2[aby]\$/.test(stored)) {
      return { ok: await bcrypt.compare(password, stored), needsRehash: true };
    }
    return { ok: await verify(stored, password), needsRehash: false };
  } catch {
    return { ok: false, needsRehash: false };
  }
}
