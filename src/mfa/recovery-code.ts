import { createHash, randomInt, timingSafeEqual } from 'node:crypto';

/** Auth0's recovery codes: 24 characters of A–Z and 0–9 (about 124 bits). */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const LENGTH = 24;

export function newRecoveryCode(): string {
  return Array.from({ length: LENGTH }, () => ALPHABET.charAt(randomInt(ALPHABET.length))).join('');
}

/** Spaces and dashes a user may type between groups, and lower case, do not matter. */
function normalise(code: string): string {
  return code.replace(/[\s-]/g, '').toUpperCase();
}

/**
 * How a recovery code is stored: SHA-256, hex. A slow password hash buys nothing for a random 124-bit code
 * (nobody can guess through that space), and a fast hash keeps a check cheap.
 */
export function hashRecoveryCode(code: string): string {
  return createHash('sha256').update(normalise(code), 'utf8').digest('hex');
}

/** Constant-time check of a typed code against a stored hash. */
export function recoveryCodeMatches(hash: string, code: string): boolean {
  const expected = Buffer.from(hash, 'hex');
  const actual = Buffer.from(hashRecoveryCode(code), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
