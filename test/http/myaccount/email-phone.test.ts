import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/app.js';
import { DEFAULT_SERVER_SETTINGS } from '../../../src/config/schema.js';
import type { User } from '../../../src/domain/user.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';
import { api } from '../../helpers/http.js';
import { freePort } from '../../helpers/ports.js';
import { me, myAccountFixture, problem, type MyAccountFixture } from '../../helpers/myaccount.js';
import { codeIn, startTestSmsGateway, type TestSmsGateway } from '../../helpers/sms.js';
import { startTestSmtpServer, type TestSmtpServer } from '../../helpers/smtp.js';

const METHODS = `${TEST_ISSUER}me/v1/authentication-methods`;
const locationOf = (id: string) => `${METHODS}/${encodeURIComponent(id)}`;
const GATEWAY_TOKEN = 'gateway-token-0123456789';

interface Started {
  id: string;
  auth_session: string;
}

const WRONG_CODE = problem(400, 'Bad Request', 'The otp_code is invalid or was already used.');
const INVALID_SESSION = problem(400, 'Bad Request', 'The auth_session is invalid, expired or already used.');
const EXPIRED_CODE = problem(
  400,
  'Bad Request',
  'The otp_code has expired; start the enrolment again for a new one.',
);
const THROTTLED = {
  type: 'about:blank',
  status: 429,
  title: 'Too Many Requests',
  detail: 'Too many wrong codes for this user; wait a few minutes before trying again.',
};

/** A six-digit code that is not `code`. */
const otherThan = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

describe.each(testBackends())('My Account API email and phone methods on $name (spec 3.1–3.5)', (backend) => {
  let t: TestApp;
  let f: MyAccountFixture;
  let smtp: TestSmtpServer;
  let gateway: TestSmsGateway;
  /** Everything the app wrote to its logs besides Fastify's (mail and event-recorder lines). */
  const sideLogs: string[] = [];
  let addressCount = 0;

  beforeAll(async () => {
    smtp = await startTestSmtpServer();
    gateway = await startTestSmsGateway();
    t = await buildTestApp(
      backend,
      {
        server: { ...DEFAULT_SERVER_SETTINGS, myAccountRateLimit: 1_000_000 },
        mail: { smtpUrl: smtp.url, from: 'Latchkey <no-reply@latchkey.test>' },
        sms: { url: gateway.url, token: GATEWAY_TOKEN },
      },
      {
        info: (message, detail) => sideLogs.push(JSON.stringify({ message, detail })),
        warn: (message, detail) => sideLogs.push(JSON.stringify({ message, detail })),
      },
    );
    f = await myAccountFixture(t);
    await f.activate();
    await factor('email', true);
    await factor('sms', true);
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
    await gateway.close();
  });

  async function factor(name: string, enabled: boolean): Promise<void> {
    const res = await api(t.app, {
      method: 'PUT',
      url: `/api/v2/guardian/factors/${name}`,
      token: await t.managementToken(),
      body: { enabled },
    });
    expect(res.statusCode).toBe(200);
  }

  async function userAndToken(): Promise<[User, string]> {
    const user = await f.make.user();
    return [user, await f.tokenFor(user)];
  }

  /** An address no other test used, so each test reads only its own messages. */
  const newEmail = () => `ada.${String(++addressCount)}.${backend.name}@mail.example`;
  const newPhone = () => `+4420${String(70_000_000 + ++addressCount)}`;

  async function start(token: string, body: Record<string, unknown>): Promise<Started> {
    const res = await me(t, 'POST', '/authentication-methods', token, body);
    expect(res.statusCode, res.body).toBe(202);
    const started = res.json<Started>();
    expect(started).toEqual({
      id: expect.stringMatching(new RegExp(`^${String(body['type'])}\\|dev_[A-Za-z0-9]{20}$`)) as string,
      auth_session: expect.stringMatching(/^[\w-]{43}$/) as string,
    });
    expect(res.headers['location']).toBe(locationOf(started.id));
    return started;
  }

  /** The code of the last email to `to` (mails of one address arrive in order). */
  async function mailedCode(to: string, nth = 1): Promise<string> {
    await smtp.waitFor((m) => m.to === to && smtp.messages.filter((x) => x.to === to).length >= nth);
    const mails = smtp.messages.filter((m) => m.to === to);
    return codeIn(mails[nth - 1]?.text ?? '');
  }

  async function textedCode(to: string, nth = 1): Promise<string> {
    await gateway.waitFor((m) => m.to === to && gateway.messages.filter((x) => x.to === to).length >= nth);
    return codeIn(gateway.messages.filter((m) => m.to === to)[nth - 1]?.body ?? '');
  }

  const verify = (token: string, id: string, body: Record<string, unknown>) =>
    me(t, 'POST', `${locationOf(id)}/verify`, token, body);
  const list = async (token: string, query = '') =>
    (await me(t, 'GET', `/authentication-methods${query}`, token))
      .json<{ authentication_methods: { id: string; type: string }[] }>()
      .authentication_methods.filter((m) => m.type !== 'password');
  const rowsOf = (userId: string) =>
    t.deps.storage.db
      .selectFrom('mfa_enrolments')
      .select(['id', 'type', 'confirmed', 'address', 'channel'])
      .where('user_id', '=', userId)
      .execute();

  it('lists email and phone in GET /factors while the tenant enables them', async () => {
    const [, token] = await userAndToken();
    const factors = async () => (await me(t, 'GET', '/factors', token)).json<unknown>();
    expect(await factors()).toEqual({
      factors: [
        { type: 'passkey', usage: ['primary'] },
        { type: 'phone', usage: ['secondary'] },
        { type: 'email', usage: ['secondary'] },
      ],
    });
    await factor('sms', false);
    try {
      expect(await factors()).toEqual({
        factors: [
          { type: 'passkey', usage: ['primary'] },
          { type: 'email', usage: ['secondary'] },
        ],
      });
      const res = await me(t, 'POST', '/authentication-methods', token, {
        type: 'phone',
        phone_number: newPhone(),
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual(
        problem(400, 'Bad Request', 'The phone factor is not enabled for this tenant.'),
      );
    } finally {
      await factor('sms', true);
    }
    await factor('email', false);
    try {
      const res = await me(t, 'POST', '/authentication-methods', token, { type: 'email', email: newEmail() });
      expect(res.json()).toEqual(
        problem(400, 'Bad Request', 'The email factor is not enabled for this tenant.'),
      );
    } finally {
      await factor('email', true);
    }
  });

  it('enrols an email: code by mail, verify, list, get, rename, delete, and the Management view', async () => {
    const [user, token] = await userAndToken();
    const email = newEmail();
    const started = await start(token, { type: 'email', email });
    const mail = await smtp.waitFor((m) => m.to === email);
    expect(mail.subject).toMatch(/verification code$/);
    const code = codeIn(mail.text);
    // Pending is not enrolled; the address is kept with it.
    expect(await list(token)).toEqual([]);
    expect(await rowsOf(user.userId)).toEqual([
      { id: started.id, type: 'email', confirmed: 0, address: email, channel: null },
    ]);

    const wrong = await verify(token, started.id, {
      auth_session: started.auth_session,
      otp_code: otherThan(code),
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toEqual(WRONG_CODE);

    const res = await verify(token, started.id, { auth_session: started.auth_session, otp_code: code });
    expect(res.statusCode).toBe(201);
    expect(res.headers['location']).toBe(locationOf(started.id));
    const at = new Date(t.clock.now()).toISOString();
    const method = {
      id: started.id,
      type: 'email',
      usage: ['secondary'],
      created_at: at,
      confirmed: true,
      email,
      last_auth_at: at,
    };
    expect(res.json()).toEqual(method);
    expect(await list(token)).toEqual([method]);
    expect(await list(token, '?type=email')).toEqual([method]);
    expect(await list(token, '?type=phone')).toEqual([]);
    const one = await me(t, 'GET', `/authentication-methods/${encodeURIComponent(started.id)}`, token);
    expect(one.json()).toEqual(method);

    // The code and auth_session are spent.
    const again = await verify(token, started.id, { auth_session: started.auth_session, otp_code: code });
    expect(again.json()).toEqual(INVALID_SESSION);

    const path = `/authentication-methods/${encodeURIComponent(started.id)}`;
    const renamed = await me(t, 'PATCH', path, token, { name: 'Work mail' });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toEqual({ ...method, name: 'Work mail' });
    const channel = await me(t, 'PATCH', path, token, { preferred_authentication_method: 'voice' });
    expect(channel.statusCode).toBe(400);
    expect(channel.json()).toEqual(
      problem(400, 'Bad Request', 'preferred_authentication_method applies to phone methods only.'),
    );

    const admin = await api(t.app, {
      method: 'GET',
      url: `/api/v2/users/${encodeURIComponent(user.userId)}/authentication-methods`,
      token: await t.managementToken(),
    });
    expect(admin.json()).toEqual([
      {
        id: started.id,
        type: 'email',
        confirmed: true,
        created_at: at,
        email,
        name: 'Work mail',
        enrolled_at: at,
        last_auth_at: at,
      },
    ]);

    expect((await me(t, 'DELETE', path, token)).statusCode).toBe(204);
    expect(await list(token)).toEqual([]);
    expect((await me(t, 'GET', path, token)).statusCode).toBe(404);
  });

  it('enrols a phone: code to the gateway on the preferred channel, verify, patch, delete', async () => {
    const [user, token] = await userAndToken();
    const phone = newPhone();
    const started = await start(token, {
      type: 'phone',
      phone_number: phone,
      preferred_authentication_method: 'voice',
    });
    const sms = await gateway.waitFor((m) => m.to === phone);
    expect(sms.channel).toBe('voice');
    expect(sms.headers['authorization']).toBe(`Bearer ${GATEWAY_TOKEN}`);
    expect(sms.body).toMatch(/^\d{6} is your .+ verification code\. It expires in 5 minutes\.$/);

    const res = await verify(token, started.id, {
      auth_session: started.auth_session,
      otp_code: codeIn(sms.body),
    });
    expect(res.statusCode).toBe(201);
    const at = new Date(t.clock.now()).toISOString();
    const method = {
      id: started.id,
      type: 'phone',
      usage: ['secondary'],
      created_at: at,
      confirmed: true,
      phone_number: phone,
      preferred_authentication_method: 'voice',
      last_auth_at: at,
    };
    expect(res.json()).toEqual(method);
    expect(await list(token, '?type=phone')).toEqual([method]);

    const path = `/authentication-methods/${encodeURIComponent(started.id)}`;
    const patched = await me(t, 'PATCH', path, token, { preferred_authentication_method: 'sms' });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toEqual({ ...method, preferred_authentication_method: 'sms' });
    const both = await me(t, 'PATCH', path, token, {
      name: 'Mobile',
      preferred_authentication_method: 'voice',
    });
    expect(both.json()).toEqual({ ...method, name: 'Mobile' });
    // The cached list follows each write.
    expect(await list(token)).toEqual([{ ...method, name: 'Mobile' }]);
    expect((await me(t, 'GET', path, token)).json()).toEqual({ ...method, name: 'Mobile' });

    const admin = await api(t.app, {
      method: 'GET',
      url: `/api/v2/users/${encodeURIComponent(user.userId)}/authentication-methods`,
      token: await t.managementToken(),
    });
    expect(admin.json()).toEqual([
      {
        id: started.id,
        type: 'phone',
        confirmed: true,
        created_at: at,
        phone_number: phone,
        preferred_authentication_method: 'voice',
        name: 'Mobile',
        enrolled_at: at,
        last_auth_at: at,
      },
    ]);

    expect((await me(t, 'DELETE', path, token)).statusCode).toBe(204);
    expect(await list(token)).toEqual([]);
    expect(await rowsOf(user.userId)).toEqual([]);
  });

  it('sends by SMS when the phone body names no channel', async () => {
    const [, token] = await userAndToken();
    const phone = newPhone();
    const started = await start(token, { type: 'phone', phone_number: phone });
    const sms = await gateway.waitFor((m) => m.to === phone);
    expect(sms.channel).toBe('sms');
    const res = await verify(token, started.id, {
      auth_session: started.auth_session,
      otp_code: codeIn(sms.body),
    });
    expect(res.json()).toMatchObject({ phone_number: phone, preferred_authentication_method: 'sms' });
  });

  it('refuses bad addresses, foreign fields and missing ones with problem bodies', async () => {
    const [user, token] = await userAndToken();
    const post = (body: Record<string, unknown>) => me(t, 'POST', '/authentication-methods', token, body);
    for (const body of [
      { type: 'email', email: 'not-an-email' },
      { type: 'email', email: '' },
      { type: 'phone', phone_number: '5551234567' },
      { type: 'phone', phone_number: '+1234567' },
      { type: 'phone', phone_number: '+1234567890123456' },
      { type: 'phone', phone_number: '+44 20 7000 0000' },
      { type: 'phone', phone_number: '+0442070000000' },
      { type: 'phone', phone_number: '+442070000000', preferred_authentication_method: 'carrier-pigeon' },
      { type: 'email', email: 'a@b.example', colour: 'red' },
    ]) {
      const res = await post(body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json()).toMatchObject({
        status: 400,
        title: 'Bad Request',
        validation_errors: expect.any(Array),
      });
    }
    const cases: [Record<string, unknown>, string][] = [
      [{ type: 'email' }, 'Payload validation error: email is required.'],
      [{ type: 'phone' }, 'Payload validation error: phone_number is required.'],
      [
        { type: 'email', email: 'a@b.example', phone_number: '+442070000000' },
        'Payload validation error: email takes no phone_number.',
      ],
      [
        { type: 'email', email: 'a@b.example', preferred_authentication_method: 'sms' },
        'Payload validation error: email takes no preferred_authentication_method.',
      ],
      [
        { type: 'phone', phone_number: '+442070000000', email: 'a@b.example' },
        'Payload validation error: phone takes no email.',
      ],
      [{ type: 'totp', email: 'a@b.example' }, 'Payload validation error: totp takes no email.'],
      [
        { type: 'passkey', phone_number: '+442070000000' },
        'Payload validation error: passkey takes no phone_number.',
      ],
    ];
    for (const [body, detail] of cases) {
      const res = await post(body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json()).toEqual(problem(400, 'Bad Request', detail));
    }
    // An email or phone method is verified with an otp_code and nothing else.
    const email = newEmail();
    const started = await start(token, { type: 'email', email });
    const passkeyBody = await verify(token, started.id, {
      auth_session: started.auth_session,
      authn_response: {
        id: 'x',
        rawId: 'x',
        type: 'public-key',
        response: { attestationObject: 'x', clientDataJSON: 'x' },
      },
    });
    expect(passkeyBody.json()).toEqual(
      problem(400, 'Bad Request', 'The email method takes no authn_response.'),
    );
    const noCode = await verify(token, started.id, { auth_session: started.auth_session });
    expect(noCode.json()).toEqual(
      problem(400, 'Bad Request', 'Payload validation error: otp_code is required.'),
    );
    const extra = await verify(token, started.id, {
      auth_session: started.auth_session,
      otp_code: await mailedCode(email),
      colour: 'red',
    });
    expect(extra.statusCode).toBe(400);
    // Nothing was sent to a refused address and nothing was written for it.
    expect(smtp.messages.filter((m) => m.to === 'a@b.example')).toEqual([]);
    expect((await rowsOf(user.userId)).map((r) => r.id)).toEqual([started.id]);
  });

  it('answers a gateway refusal with a 400 problem and enrols nothing', async () => {
    const [user, token] = await userAndToken();
    const phone = newPhone();
    for (const status of [500, 401]) {
      gateway.answer(status);
      try {
        const res = await me(t, 'POST', '/authentication-methods', token, {
          type: 'phone',
          phone_number: phone,
        });
        expect(res.statusCode).toBe(400);
        expect(res.json()).toEqual(
          problem(
            400,
            'Bad Request',
            'The code could not be sent to this phone number; nothing was enrolled. Check the number or try again later.',
          ),
        );
        expect(res.headers['location']).toBeUndefined();
      } finally {
        gateway.answer(200);
      }
    }
    expect(await rowsOf(user.userId)).toEqual([]);
    expect(await list(token)).toEqual([]);
    // The gateway back: the same number enrols.
    const started = await start(token, { type: 'phone', phone_number: phone });
    const ok = await verify(token, started.id, {
      auth_session: started.auth_session,
      otp_code: await textedCode(phone),
    });
    expect(ok.statusCode).toBe(201);
  });

  it('answers an SMTP server that cannot be reached with a 400 problem and enrols nothing', async () => {
    const down = await buildTestApp(backend, {
      server: { ...DEFAULT_SERVER_SETTINGS, myAccountRateLimit: 1_000_000 },
      mail: {
        smtpUrl: `smtp://127.0.0.1:${String(await freePort())}`,
        from: 'Latchkey <no-reply@latchkey.test>',
      },
    });
    try {
      const fixture = await myAccountFixture(down);
      await fixture.activate();
      const enabled = await api(down.app, {
        method: 'PUT',
        url: '/api/v2/guardian/factors/email',
        token: await down.managementToken(),
        body: { enabled: true },
      });
      expect(enabled.statusCode).toBe(200);
      const user = await fixture.make.user();
      const res = await me(down, 'POST', '/authentication-methods', await fixture.tokenFor(user), {
        type: 'email',
        email: newEmail(),
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual(
        problem(
          400,
          'Bad Request',
          'The code could not be sent to this email address; nothing was enrolled. Check the address or try again later.',
        ),
      );
      const rows = await down.deps.storage.db
        .selectFrom('mfa_enrolments')
        .select('id')
        .where('user_id', '=', user.userId)
        .execute();
      expect(rows).toEqual([]);
    } finally {
      await down.close();
    }
  });

  it('allows five tries per code: four wrong ones and the right one pass, five wrong ones end it', async () => {
    const [user, token] = await userAndToken();
    const email = newEmail();
    const first = await start(token, { type: 'email', email });
    const code = await mailedCode(email);
    for (let i = 0; i < 4; i += 1) {
      const res = await verify(token, first.id, {
        auth_session: first.auth_session,
        otp_code: otherThan(code),
      });
      expect(res.json()).toEqual(WRONG_CODE);
    }
    const ok = await verify(token, first.id, { auth_session: first.auth_session, otp_code: ` ${code} ` });
    expect(ok.statusCode).toBe(201);

    const phone = newPhone();
    const second = await start(token, { type: 'phone', phone_number: phone });
    const texted = await textedCode(phone);
    for (let i = 0; i < 5; i += 1) {
      const res = await verify(token, second.id, { auth_session: second.auth_session, otp_code: 'abcdef' });
      expect(res.json()).toEqual(WRONG_CODE);
    }
    const late = await verify(token, second.id, { auth_session: second.auth_session, otp_code: texted });
    expect(late.json()).toEqual(INVALID_SESSION);
    expect((await rowsOf(user.userId)).map((r) => r.id)).toEqual([first.id]);
  });

  it('refuses an expired code, another enrolment’s code and another user’s auth_session', async () => {
    const [user, token] = await userAndToken();
    const [, other] = await userAndToken();
    const email = newEmail();
    const started = await start(token, { type: 'email', email });
    const code = await mailedCode(email);
    const stolen = await verify(other, started.id, { auth_session: started.auth_session, otp_code: code });
    expect(stolen.json()).toEqual(INVALID_SESSION);

    // A restarted enrolment sends a new code; the first one no longer opens anything.
    const again = await start(token, { type: 'email', email });
    const newCode = await mailedCode(email, 2);
    if (newCode !== code) {
      const old = await verify(token, again.id, { auth_session: again.auth_session, otp_code: code });
      expect(old.json()).toEqual(WRONG_CODE);
    }
    const stale = await verify(token, started.id, { auth_session: started.auth_session, otp_code: code });
    expect(stale.json()).toEqual(INVALID_SESSION);

    // Five minutes on, the code has expired. Redis keeps the auth_session to its own clock, so there it is the
    // code's expiry that answers; the SQL store lets both end at the same second.
    t.clock.advance(300_000);
    const expired = await verify(token, again.id, { auth_session: again.auth_session, otp_code: newCode });
    expect(expired.json()).toEqual(t.deps.redis ? EXPIRED_CODE : INVALID_SESSION);
    // An expired code ends the pending method; a spent auth_session leaves it to the next enrolment.
    expect((await rowsOf(user.userId)).filter((r) => r.confirmed === 1)).toEqual([]);
    if (t.deps.redis) expect(await rowsOf(user.userId)).toEqual([]);

    const phone = newPhone();
    const third = await start(token, { type: 'phone', phone_number: phone });
    const texted = await textedCode(phone);
    t.clock.advance(301_000);
    const late = await verify(token, third.id, { auth_session: third.auth_session, otp_code: texted });
    expect(late.json()).toEqual(INVALID_SESSION);
    expect(await list(token)).toEqual([]);
  });

  it('throttles a user after ten wrong codes, whatever the enrolment, for the rest of the window', async () => {
    const [, token] = await userAndToken();
    const [, bystander] = await userAndToken();
    // Start in a fresh quarter hour, so the window does not end halfway.
    t.clock.advance(900_000 - (t.clock.now() % 900_000));
    for (let round = 0; round < 2; round += 1) {
      const email = newEmail();
      const started = await start(token, { type: 'email', email });
      const code = await mailedCode(email);
      for (let i = 0; i < 5; i += 1) {
        const res = await verify(token, started.id, {
          auth_session: started.auth_session,
          otp_code: otherThan(code),
        });
        expect(res.json()).toEqual(WRONG_CODE);
      }
    }
    const phone = newPhone();
    const started = await start(token, { type: 'phone', phone_number: phone });
    const code = await textedCode(phone);
    const refused = await verify(token, started.id, { auth_session: started.auth_session, otp_code: code });
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toEqual(THROTTLED);
    // The window started with the test: it ends in a quarter hour, less the seconds the test took.
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(890);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(900);
    // The right code is not spent by the refusal, and another user is not throttled.
    const email = newEmail();
    const theirs = await start(bystander, { type: 'email', email });
    const ok = await verify(bystander, theirs.id, {
      auth_session: theirs.auth_session,
      otp_code: await mailedCode(email),
    });
    expect(ok.statusCode).toBe(201);

    // The next window lets the user in again (a new enrolment: the old auth_session has expired).
    t.clock.advance(900_000);
    const fresh = await start(token, { type: 'phone', phone_number: phone });
    const done = await verify(token, fresh.id, {
      auth_session: fresh.auth_session,
      otp_code: await textedCode(phone, 2),
    });
    expect(done.statusCode).toBe(201);
  });

  it('never puts the code in a response or a log line', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logged = await buildApp(t.deps, { logger: { level: 'trace', stream } });
    sideLogs.length = 0;
    try {
      const [, token] = await userAndToken();
      const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown) =>
        logged.inject({
          method,
          url: path.startsWith('http') ? new URL(path).pathname : `/me/v1${path}`,
          headers: { authorization: `Bearer ${token}` },
          ...(body === undefined ? {} : { payload: body as object }),
        });
      const responses: string[] = [];
      const record = async (res: Promise<{ body: string; headers: Record<string, unknown> }>) => {
        const r = await res;
        responses.push(r.body, JSON.stringify(r.headers));
        return r;
      };
      const email = newEmail();
      const phone = newPhone();
      const e = JSON.parse(
        (await record(call('POST', '/authentication-methods', { type: 'email', email }))).body,
      ) as Started;
      const p = JSON.parse(
        (await record(call('POST', '/authentication-methods', { type: 'phone', phone_number: phone }))).body,
      ) as Started;
      const emailCode = await mailedCode(email);
      const phoneCode = await textedCode(phone);
      await record(
        call('POST', `${locationOf(e.id)}/verify`, {
          auth_session: e.auth_session,
          otp_code: otherThan(emailCode),
        }),
      );
      await record(
        call('POST', `${locationOf(e.id)}/verify`, { auth_session: e.auth_session, otp_code: emailCode }),
      );
      await record(
        call('POST', `${locationOf(p.id)}/verify`, { auth_session: p.auth_session, otp_code: phoneCode }),
      );
      await record(call('GET', '/authentication-methods'));
      await record(call('GET', `/authentication-methods/${encodeURIComponent(p.id)}`));
      gateway.answer(503);
      try {
        await record(call('POST', '/authentication-methods', { type: 'phone', phone_number: newPhone() }));
      } finally {
        gateway.answer(200);
      }
      // The gateway refusal was logged for the operator, without any code.
      expect(lines.join('')).toContain('the SMS gateway answered 503');
      // Log lines carry other numbers (times): the code must not appear as a number of its own.
      for (const code of [emailCode, phoneCode]) {
        const alone = new RegExp(`(?<![0-9])${code}(?![0-9])`);
        for (const text of [...responses, ...lines, ...sideLogs]) expect(text).not.toMatch(alone);
      }
      expect(lines.length).toBeGreaterThan(0);
    } finally {
      await logged.close();
    }
  });
});
