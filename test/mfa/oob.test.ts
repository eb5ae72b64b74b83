import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkOobCode,
  OOB_MAX_ATTEMPTS,
  oobTargetOf,
  sendOobCode,
  type OobTarget,
} from '../../src/mfa/oob.js';
import { SmsNotSent } from '../../src/sms/sender.js';
import { testBackends } from '../helpers/backends.js';
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js';
import { codeIn, startTestSmsGateway, type TestSmsGateway } from '../helpers/sms.js';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';

const silent = { warn: () => undefined };
const otherThan = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

describe.each(testBackends())('emailed and texted one-time codes (mfa/oob.ts) on $name', (backend) => {
  let t: TestApp;
  let smtp: TestSmtpServer;
  let gateway: TestSmsGateway;
  let n = 0;
  beforeAll(async () => {
    smtp = await startTestSmtpServer();
    gateway = await startTestSmsGateway();
    t = await buildTestApp(backend, {
      mail: { smtpUrl: smtp.url, from: 'Latchkey <no-reply@latchkey.test>' },
      sms: { url: gateway.url, token: undefined },
    });
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
    await gateway.close();
  });

  /** A target of its own user and address, so codes and throttles of tests do not meet. */
  const target = (type: 'email' | 'phone' = 'phone'): OobTarget => {
    n += 1;
    return {
      userId: `auth0|oob-${backend.name}-${String(n)}`,
      enrolmentId: `${type}|dev_${String(n)}`,
      type,
      address: type === 'email' ? `oob.${String(n)}@mail.example` : `+4420${String(70_000_000 + n)}`,
      channel: type === 'phone' ? 'sms' : undefined,
    };
  };
  const send = async (to: OobTarget): Promise<[string, string]> => {
    const oobCode = await sendOobCode(t.deps, to);
    const code =
      to.type === 'email'
        ? codeIn((await smtp.waitFor((m) => m.to === to.address)).text)
        : codeIn((await gateway.waitFor((m) => m.to === to.address)).body);
    return [oobCode, code];
  };

  it('accepts the right code once and names the enrolment', async () => {
    for (const type of ['email', 'phone'] as const) {
      const to = target(type);
      const [oobCode, code] = await send(to);
      expect(oobCode).toMatch(/^[\w-]{32}$/);
      expect(oobCode).not.toContain(code);
      expect(await checkOobCode(t.deps, to.userId, oobCode, code, silent)).toEqual({
        ok: true,
        enrolmentId: to.enrolmentId,
      });
      expect(await checkOobCode(t.deps, to.userId, oobCode, code, silent)).toEqual({
        ok: false,
        reason: 'unknown',
      });
    }
  });

  it('compares in constant time whatever is typed: other lengths and non-digits are wrong, not errors', async () => {
    const to = target();
    const [oobCode, code] = await send(to);
    for (const typed of ['', '12345', `${code}0`, '１２３４５６']) {
      expect(await checkOobCode(t.deps, to.userId, oobCode, typed, silent)).toEqual({
        ok: false,
        reason: 'wrong',
      });
    }
    // Four wrong tries so far (five allowed): the right code still passes.
    expect((await checkOobCode(t.deps, to.userId, oobCode, code, silent)).ok).toBe(true);
  });

  it('refuses another user’s oob_code', async () => {
    const to = target();
    const [oobCode, code] = await send(to);
    expect(await checkOobCode(t.deps, 'auth0|someone-else', oobCode, code, silent)).toEqual({
      ok: false,
      reason: 'unknown',
    });
  });

  it('ends the challenge after five wrong codes', async () => {
    const to = target('email');
    const [oobCode, code] = await send(to);
    for (let i = 0; i < OOB_MAX_ATTEMPTS; i += 1) {
      expect(await checkOobCode(t.deps, to.userId, oobCode, otherThan(code), silent)).toEqual({
        ok: false,
        reason: 'wrong',
      });
    }
    expect(await checkOobCode(t.deps, to.userId, oobCode, code, silent)).toEqual({
      ok: false,
      reason: 'unknown',
    });
  });

  it('expires the code after five minutes', async () => {
    const to = target();
    const [oobCode, code] = await send(to);
    t.clock.advance(300_000);
    expect(await checkOobCode(t.deps, to.userId, oobCode, code, silent)).toEqual({
      ok: false,
      reason: 'unknown',
    });
    expect(await checkOobCode(t.deps, to.userId, 'x'.repeat(65), code, silent)).toEqual({
      ok: false,
      reason: 'unknown',
    });
  });

  it('keeps nothing when the gateway refuses, and sends voice on the voice channel', async () => {
    const to = target();
    gateway.answer(502);
    try {
      await expect(sendOobCode(t.deps, to)).rejects.toBeInstanceOf(SmsNotSent);
    } finally {
      gateway.answer(200);
    }
    const voice = { ...to, channel: 'voice' as const };
    await sendOobCode(t.deps, voice);
    expect(gateway.messages.filter((m) => m.to === to.address).map((m) => m.channel)).toEqual(['voice']);
  });

  it('knows which enrolments take codes', () => {
    const base = {
      userId: 'u',
      secret: undefined,
      codeHash: undefined,
      confirmed: true,
      name: undefined,
      createdAt: '',
      enrolledAt: undefined,
      lastAuthAt: undefined,
    };
    expect(oobTargetOf({ ...base, id: 'email|dev_1', type: 'email', address: 'a@b.example' })).toEqual({
      userId: 'u',
      enrolmentId: 'email|dev_1',
      type: 'email',
      address: 'a@b.example',
      channel: undefined,
    });
    expect(oobTargetOf({ ...base, id: 'totp|dev_1', type: 'totp' })).toBeUndefined();
    expect(oobTargetOf({ ...base, id: 'phone|dev_1', type: 'phone' })).toBeUndefined();
  });
});
