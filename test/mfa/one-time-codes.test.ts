import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashRecoveryCode, newRecoveryCode, recoveryCodeMatches } from '../../src/mfa/recovery-code.js';
import { acceptTotpCode, newTotpSecret } from '../../src/mfa/totp.js';
import { testBackends } from '../helpers/backends.js';
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js';

describe.each(testBackends())('TOTP codes on the one-time store of $name', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(backend);
  });
  afterAll(async () => {
    await t.close();
  });

  it('accepts a code once per method and step, within one step either side', async () => {
    const secret = newTotpSecret();
    const now = t.clock.now();
    const epoch = Math.floor(now / 1000);
    const code = await generate({ secret, epoch });
    const id = `totp|dev_${Math.random().toString(36).slice(2)}`;
    expect(await acceptTotpCode(t.deps.oneTime, id, secret, code, now)).toBe(true);
    // Reused within its step: refused, on this node or (with Redis) any other.
    expect(await acceptTotpCode(t.deps.oneTime, id, secret, code, now)).toBe(false);
    // Another method with the same secret keeps its own steps.
    expect(await acceptTotpCode(t.deps.oneTime, `${id}-2`, secret, code, now)).toBe(true);
    // The next step's code is new; two steps away is outside the window.
    expect(
      await acceptTotpCode(t.deps.oneTime, id, secret, await generate({ secret, epoch: epoch + 30 }), now),
    ).toBe(true);
    expect(
      await acceptTotpCode(t.deps.oneTime, id, secret, await generate({ secret, epoch: epoch - 60 }), now),
    ).toBe(false);
    expect(await acceptTotpCode(t.deps.oneTime, id, secret, '12345', now)).toBe(false);
  });
});

describe('recovery codes', () => {
  it('are 24 random characters, stored as a SHA-256 and compared whatever the spacing and case', () => {
    const code = newRecoveryCode();
    expect(code).toMatch(/^[A-Z0-9]{24}$/);
    expect(newRecoveryCode()).not.toBe(code);
    const hash = hashRecoveryCode(code);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain(code);
    expect(recoveryCodeMatches(hash, code)).toBe(true);
    expect(recoveryCodeMatches(hash, `${code.slice(0, 12).toLowerCase()} - ${code.slice(12)}`)).toBe(true);
    expect(recoveryCodeMatches(hash, code.slice(1))).toBe(false);
    expect(recoveryCodeMatches(hash, '')).toBe(false);
  });
});
