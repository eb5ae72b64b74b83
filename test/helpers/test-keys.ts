import type { SigningKey } from '../../src/domain/signing-key.js';
import { generateSigningKey } from '../../src/keys/generate.js';

// RSA generation takes ~0.5 s; each test process makes a few keys once and hands out copies.
const pool: Promise<SigningKey>[] = [];

function template(i: number): Promise<SigningKey> {
  pool[i] ??= generateSigningKey({
    tenantId: 'default',
    issuer: 'http://latchkey.test/',
    state: 'next',
    now: new Date(0),
  });
  return pool[i];
}

/** A key generator for tests: keys come from a small per-process pool, cycled in order (8 distinct per app). */
export function createTestKeyGenerator(
  now: () => number,
): (state: 'current' | 'next') => Promise<SigningKey> {
  let n = 0;
  return async (state) => {
    const key = await template(n++ % 8);
    const iso = new Date(now()).toISOString();
    return { ...key, state, createdAt: iso, currentSince: state === 'current' ? iso : undefined };
  };
}
