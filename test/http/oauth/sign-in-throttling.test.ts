import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import {
  FAILED_LOGINS_PER_ADDRESS,
  FAILED_LOGINS_PER_IDENTIFIER,
} from '../../../src/server/failed-auth-limit.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories } from '../../helpers/factories.js';
import { api, form } from '../../helpers/http.js';

const PASSWORD = 'Pass-word-123';
const WRONG = { error: 'invalid_grant', error_description: 'Wrong email or password.' };
const BLOCKED = {
  error: 'too_many_attempts',
  error_description:
    'Your account has been blocked after multiple consecutive login attempts. Wait for the block to expire or ask an administrator to lift it.',
};
const SUSPICIOUS = {
  error: 'too_many_attempts',
  error_description:
    'We have detected suspicious login behavior and further attempts will be blocked. Please contact the administrator.',
};
/** An address of its own per test: with Redis, counts are shared by every app of one namespace. */
const freshAddress = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;
const DEFAULT_LIMITS = {
  failedLoginLimits: { perAddress: FAILED_LOGINS_PER_ADDRESS, perIdentifier: FAILED_LOGINS_PER_IDENTIFIER },
};

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

async function signInApp(t: TestApp): Promise<{ client: Client; userEmail: string }> {
  const make = createFactories(t.deps);
  const client = await make.client({ grantTypes: ['password'] });
  await make.enableConnection(client.clientId);
  const user = await make.user();
  return { client, userEmail: user.email ?? '' };
}

function loginWith(t: TestApp, client: Client) {
  return async (username: string, password: string, ip: string): Promise<Answer> => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      remoteAddress: ip,
      ...form({
        grant_type: 'password',
        client_id: client.clientId,
        client_secret: client.clientSecret,
        username,
        password,
      }),
    });
    return { status: res.statusCode, body: res.json() };
  };
}

describe.each(testBackends())('password sign-in throttling on $name (default limits)', (backend) => {
  let t: TestApp;
  let login: ReturnType<typeof loginWith>;
  let userEmail: string;
  beforeAll(async () => {
    t = await buildTestApp(backend, {}, DEFAULT_LIMITS);
    const made = await signInApp(t);
    userEmail = made.userEmail;
    login = loginWith(t, made.client);
  });
  afterAll(async () => {
    await t.close();
  });

  it('throttles an address trying 200 unknown usernames after 100, then refuses any login from it', async () => {
    const address = freshAddress();
    const answers: Answer[] = [];
    for (let i = 0; i < 200; i++) answers.push(await login(`nobody-${i}@example.com`, PASSWORD, address));
    expect(answers.slice(0, 100)).toEqual(Array(100).fill({ status: 403, body: WRONG }));
    expect(answers.slice(100)).toEqual(Array(100).fill({ status: 429, body: SUSPICIOUS }));
    expect(await login(userEmail, PASSWORD, address)).toEqual({ status: 429, body: SUSPICIOUS });
    expect((await login(userEmail, PASSWORD, freshAddress())).status).toBe(200);
    // The window ends: the address may try again.
    t.clock.advance(FAILED_LOGINS_PER_ADDRESS.windowSeconds * 1000);
    expect((await login(userEmail, PASSWORD, address)).status).toBe(200);
  });

  it('answers a known and an unknown login name alike at every step: 10 failures, then blocked', async () => {
    const address = freshAddress();
    const run = async (username: string, password: string) => {
      const answers: Answer[] = [];
      for (let i = 0; i < 10; i++) answers.push(await login(username, `wrong-${i}`, address));
      answers.push(await login(username, password, address));
      return answers;
    };
    const known = await run(userEmail.toUpperCase(), PASSWORD);
    const unknown = await run('Nobody.Here@example.com', PASSWORD);
    expect(known).toEqual([...Array(10).fill({ status: 403, body: WRONG }), { status: 429, body: BLOCKED }]);
    expect(unknown).toEqual(known);
  });

  it('lists and lifts the block of a login name without an account through /user-blocks?identifier=', async () => {
    const address = freshAddress();
    for (let i = 0; i < 10; i++) await login('Ghost@Example.com', 'wrong', address);
    expect(await login('ghost@example.com', 'wrong', address)).toEqual({ status: 429, body: BLOCKED });
    const token = await t.managementToken();
    const listed = await api(t.app, {
      method: 'GET',
      url: '/api/v2/user-blocks?identifier=GHOST@example.com',
      token,
    });
    expect(listed.json()).toEqual({
      blocked_for: [
        { identifier: 'ghost@example.com', ip: address, connection: 'Username-Password-Authentication' },
      ],
    });
    const lifted = await api(t.app, {
      method: 'DELETE',
      url: '/api/v2/user-blocks?identifier=ghost@example.com',
      token,
    });
    expect(lifted.statusCode).toBe(204);
    expect(await login('ghost@example.com', 'wrong', address)).toEqual({ status: 403, body: WRONG });
  });
});

describe.each(testBackends())('password sign-in throttling with small limits on $name', (backend) => {
  const LIMIT = 5;
  let t: TestApp;
  let login: ReturnType<typeof loginWith>;
  let userEmail: string;
  beforeAll(async () => {
    t = await buildTestApp(
      backend,
      {},
      {
        failedLoginLimits: {
          perAddress: FAILED_LOGINS_PER_ADDRESS,
          perIdentifier: { limit: LIMIT, windowSeconds: 3600 },
        },
      },
    );
    const made = await signInApp(t);
    userEmail = made.userEmail;
    login = loginWith(t, made.client);
  });
  afterAll(async () => {
    await t.close();
  });

  it('throttles a known or unknown login name tried from many addresses, even with the right password', async () => {
    const run = async (username: string) => {
      const answers: Answer[] = [];
      for (let i = 0; i < LIMIT; i++) answers.push(await login(username, 'wrong', freshAddress()));
      answers.push(await login(username, PASSWORD, freshAddress()));
      return answers;
    };
    const known = await run(userEmail);
    expect(known).toEqual([
      ...Array(LIMIT).fill({ status: 403, body: WRONG }),
      { status: 429, body: BLOCKED },
    ]);
    expect(await run('somebody-else@example.com')).toEqual(known);
    t.clock.advance(3600 * 1000);
    expect((await login(userEmail, PASSWORD, freshAddress())).status).toBe(200);
  });

  it('does not count right passwords against the address', async () => {
    const address = freshAddress();
    for (let i = 0; i < LIMIT + 5; i++) {
      expect((await login(userEmail, PASSWORD, address)).status).toBe(200);
    }
    expect(await login('nobody@example.com', PASSWORD, address)).toEqual({ status: 403, body: WRONG });
  });
});

const redisUrl = process.env['LATCHKEY_TEST_REDIS_URL'];

describe.skipIf(!redisUrl)('password sign-in throttling across two nodes sharing Redis', () => {
  const LIMIT = 4;
  const redisNamespace = `latchkey-test:logins-${randomInt(1e9)}:`;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const limits = {
      failedLoginLimits: {
        perAddress: { limit: LIMIT, windowSeconds: 3600 },
        perIdentifier: { limit: LIMIT, windowSeconds: 3600 },
      },
      redisNamespace,
    };
    a = await buildTestApp(undefined, {}, limits);
    b = await buildTestApp(undefined, {}, limits);
    b.clock.set(a.clock.now());
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('lets only the limit of parallel guesses at one login name through, whichever node they reach', async () => {
    const logins = await Promise.all([a, b].map(async (t) => loginWith(t, (await signInApp(t)).client)));
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        logins[i % 2]!('shared-target@example.com', 'wrong', freshAddress()),
      ),
    );
    expect(answers.filter((r) => r.status === 403)).toHaveLength(LIMIT);
    expect(answers.filter((r) => r.status === 429)).toEqual(
      Array(20 - LIMIT).fill({ status: 429, body: BLOCKED }),
    );
  });
});
