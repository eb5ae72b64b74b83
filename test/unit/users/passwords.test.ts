import { hash as bcryptHash } from '@node-rs/bcrypt';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ARGON2_COST,
  BCRYPT_MAX_COST,
  checkPassword,
  hashPassword,
  isVerifiableHash,
  useArgon2Cost,
} from '../../../src/users/passwords.js';
import { SUITE_ARGON2_COST } from '../../helpers/cheap-hashes.js';

const PASSWORD = 'Imported-Pass-1';

describe('checkPassword on imported bcrypt hashes', () => {
  it('verifies on the thread pool: the event loop stays free while four cost-10 checks run', async () => {
    const stored = await bcryptHash(PASSWORD, BCRYPT_MAX_COST);
    const before = performance.eventLoopUtilization();
    const checks = await Promise.all(Array.from({ length: 4 }, () => checkPassword(PASSWORD, stored)));
    const busy = performance.eventLoopUtilization(before);
    expect(checks).toEqual(Array(4).fill({ ok: true, needsRehash: true }));
    // Verified on the main thread (bcryptjs) the loop is busy throughout (utilization near 1).
    expect(busy.utilization).toBeLessThan(0.5);
  });

  it('answers a hash above the cost cap at once, as a failure, without running it', async () => {
    const cheap = await bcryptHash(PASSWORD, 4);
    // A cost-31 hash would hold a thread for days: only its cost is read.
    const costly = cheap.replace(/^\$2[aby]\$04\$/, '$2b$31$');
    const started = performance.now();
    expect(await checkPassword(PASSWORD, costly)).toEqual({ ok: false, needsRehash: false });
    expect(performance.now() - started).toBeLessThan(50);
  });

  it.each([
    ['$2b$10$', true],
    ['$2a$10$', true],
    ['$2y$10$', true],
    ['$2b$04$', true],
    ['$2b$11$', false],
    ['$2b$17$', false],
  ])('treats a bcrypt hash starting %s as verifiable: %s', async (prefix, verifiable) => {
    const stored = (await bcryptHash(PASSWORD, 4)).replace(/^\$2[aby]\$04\$/, prefix);
    expect(isVerifiableHash(stored)).toBe(verifiable);
  });

  it('treats argon2id as verifiable and anything else as not', async () => {
    expect(isVerifiableHash(await hashPassword(PASSWORD))).toBe(true);
    expect(isVerifiableHash('$2b$10$short')).toBe(false);
    const valid = '$2b$10$' + 'a'.repeat(53);
    expect(isVerifiableHash(valid)).toBe(true);
    expect(isVerifiableHash(valid + 'a')).toBe(false);
    expect(isVerifiableHash('$2b$03$' + 'a'.repeat(53))).toBe(false);
    expect(isVerifiableHash('$2b$1a$' + 'a'.repeat(53))).toBe(false);
    expect(isVerifiableHash('5f4dcc3b5aa765d61d8327deb882cf99')).toBe(false);
  });
});

describe('the argon2id cost', () => {
  afterEach(() => {
    // The suite's own cheap cost, for the tests after these.
    useArgon2Cost(SUITE_ARGON2_COST);
  });

  it('is 46 MiB and two passes in production, and hashes of a cheaper cost still verify', async () => {
    const cheap = await hashPassword(PASSWORD);
    useArgon2Cost(ARGON2_COST);
    const stored = await hashPassword(PASSWORD);
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=47104,t=2,p=1\$/);
    expect(await checkPassword(PASSWORD, stored)).toEqual({ ok: true, needsRehash: false });
    expect(await checkPassword('wrong', stored)).toEqual({ ok: false, needsRehash: false });
    expect(cheap).toMatch(/^\$argon2id\$v=19\$m=256,t=1,p=1\$/);
    expect(await checkPassword(PASSWORD, cheap)).toEqual({ ok: true, needsRehash: false });
  });
});
