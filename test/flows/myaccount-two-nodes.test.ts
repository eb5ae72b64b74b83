import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { bootstrapTenant } from '../../src/bootstrap/service.js';
import { DEFAULT_SERVER_SETTINGS, type Config } from '../../src/config/schema.js';
import { createDeps, type Deps } from '../../src/server/deps.js';
import { createStorage, dropSchema, type Storage } from '../../src/storage/db.js';
import { USER_READ_LIMITS } from '../../src/server/user-reads.js';
import { migrateToLatest } from '../../src/storage/migrate.js';
import {
  BOOTSTRAP_CLIENT_ID,
  BOOTSTRAP_CLIENT_SECRET,
  MGMT_AUDIENCE,
  TEST_ISSUER,
  UNLIMITED_FAILURES,
  type TestApp,
} from '../helpers/build-test-app.js';
import type { FakeClock } from '../helpers/fake-clock.js';
import { clientCredentials } from '../helpers/http.js';
import { me, myAccountFixture, type MyAccountFixture } from '../helpers/myaccount.js';
import { createSoftAuthenticator } from '../helpers/soft-authenticator.js';
import { createTestKeyGenerator } from '../helpers/test-keys.js';

const pgUrl = process.env['LATCHKEY_TEST_POSTGRES_URL'];
const redisUrl = process.env['LATCHKEY_TEST_REDIS_URL'];
const LIMIT = 4;

// Two nodes of one deployment (one PostgreSQL schema, one Redis namespace), on the real clock.
describe.skipIf(!pgUrl || !redisUrl)('the My Account API on two nodes sharing PostgreSQL and Redis', () => {
  const schema = `n_${randomBytes(6).toString('hex')}`;
  const redisNamespace = `latchkey-test:${schema}:`;
  const storages: Storage[] = [];
  const nodes: { app: FastifyInstance; deps: Deps }[] = [];
  let f: MyAccountFixture;

  /** The parts of a TestApp the My Account fixture uses, over a node on the real clock. */
  const asTestApp = (n: { app: FastifyInstance; deps: Deps }): TestApp => {
    const token = async (scope?: string) =>
      (
        await clientCredentials(
          n.app,
          { clientId: BOOTSTRAP_CLIENT_ID, clientSecret: BOOTSTRAP_CLIENT_SECRET },
          MGMT_AUDIENCE,
          scope === undefined ? {} : { scope },
        )
      ).json<{ access_token: string }>().access_token;
    return {
      app: n.app,
      issuer: n.deps.config.issuer,
      deps: n.deps,
      clock: n.deps.clock as FakeClock,
      managementToken: () => token(),
      managementTokenWith: (scopes) => token(scopes.join(' ')),
      close: () => Promise.resolve(),
    };
  };
  const node = (i: number): TestApp => {
    const n = nodes[i];
    if (!n) throw new Error('node missing');
    return asTestApp(n);
  };

  beforeAll(async () => {
    const config: Config = Object.freeze({
      port: 0,
      host: '127.0.0.1',
      issuer: TEST_ISSUER,
      databaseUrl: pgUrl ?? '',
      redisUrl,
      secret: 'two-nodes-secret-two-nodes-secret-000',
      bootstrapClientId: BOOTSTRAP_CLIENT_ID,
      bootstrapClientSecret: BOOTSTRAP_CLIENT_SECRET,
      logLevel: 'silent',
      trustProxy: false,
      server: { ...DEFAULT_SERVER_SETTINGS, myAccountRateLimit: LIMIT },
    });
    for (let i = 0; i < 2; i++) {
      const storage = await createStorage(pgUrl ?? '', { schema });
      storages.push(storage);
      await migrateToLatest(storage);
      const deps = createDeps(config, storage, {
        generateKey: createTestKeyGenerator(() => Date.now()),
        failedAuthLimit: UNLIMITED_FAILURES,
        failedLoginLimits: { perAddress: UNLIMITED_FAILURES, perIdentifier: UNLIMITED_FAILURES },
        passwordCheckFloorMs: 0,
        redisNamespace,
      });
      await bootstrapTenant(
        {
          tenantId: deps.tenantId,
          issuer: TEST_ISSUER,
          bootstrapClientId: BOOTSTRAP_CLIENT_ID,
          bootstrapClientSecret: BOOTSTRAP_CLIENT_SECRET,
        },
        deps,
      );
      nodes.push({ app: await buildApp(deps), deps });
    }
    f = await myAccountFixture(node(0));
    await f.activate();
  });
  afterAll(async () => {
    for (const n of nodes) {
      await n.app.close();
      await n.deps.close();
    }
    for (const s of storages) await s.close();
    await dropSchema(pgUrl ?? '', schema);
  });

  /** Waits for the start of a second, so a burst of requests falls in one rate-limit window. */
  const freshSecond = async () => {
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
  };

  it('verifies on node B an enrolment started on node A', async () => {
    const user = await f.make.user();
    const token = await f.tokenFor(user);
    await freshSecond();
    const started = await me(node(0), 'POST', '/authentication-methods', token, { type: 'passkey' });
    expect(started.statusCode).toBe(202);
    const { auth_session, authn_params_public_key } = started.json<{
      auth_session: string;
      authn_params_public_key: Parameters<ReturnType<typeof createSoftAuthenticator>['register']>[0];
    }>();
    const authn_response = createSoftAuthenticator().register(
      authn_params_public_key,
      'https://latchkey.test',
    );
    const verified = await me(node(1), 'POST', `${String(started.headers['location'])}/verify`, token, {
      auth_session,
      authn_response,
    });
    expect(verified.statusCode).toBe(201);
    const again = await me(node(0), 'POST', `${String(started.headers['location'])}/verify`, token, {
      auth_session,
      authn_response,
    });
    expect(again.statusCode).toBe(400);
    const listed = await me(node(0), 'GET', '/authentication-methods?type=passkey', token);
    expect(listed.json()).toEqual({ authentication_methods: [verified.json()] });
  });

  it('sees on node B, at once, a passkey deletion and a block made on node A (Redis invalidation, not expiry)', async () => {
    const user = await f.make.user();
    const token = await f.tokenFor(user);
    const mgmt = { authorization: `Bearer ${await node(0).managementToken()}` };
    const userUrl = `/api/v2/users/${encodeURIComponent(user.userId)}`;
    const passkeysOnB = async () => {
      const res = await me(node(1), 'GET', '/authentication-methods?type=passkey', token);
      expect(res.statusCode).toBe(200);
      return res.json<{ authentication_methods: { id: string }[] }>().authentication_methods.map((m) => m.id);
    };
    /** Long enough for a pub/sub message on this host, far shorter than the entries' lifetime. */
    const propagation = () => new Promise((r) => setTimeout(r, 100));
    const withinLifetime = (since: number) => {
      // Past the lifetime the entry would have expired anyway, and the check below would prove nothing.
      if (Date.now() - since >= USER_READ_LIMITS.ttlMs)
        throw new Error('too slow to tell invalidation from expiry');
    };

    await freshSecond();
    const started = await me(node(0), 'POST', '/authentication-methods', token, { type: 'passkey' });
    expect(started.statusCode).toBe(202);
    const { auth_session, authn_params_public_key } = started.json<{
      auth_session: string;
      authn_params_public_key: Parameters<ReturnType<typeof createSoftAuthenticator>['register']>[0];
    }>();
    const verified = await me(node(0), 'POST', `${String(started.headers['location'])}/verify`, token, {
      auth_session,
      authn_response: createSoftAuthenticator().register(authn_params_public_key, 'https://latchkey.test'),
    });
    expect(verified.statusCode).toBe(201);
    const { id } = verified.json<{ id: string }>();
    const cachedAt = Date.now();
    expect(await passkeysOnB()).toEqual([id]);
    const deleted = await node(0).app.inject({
      method: 'DELETE',
      url: `${userUrl}/authentication-methods/${encodeURIComponent(id)}`,
      headers: mgmt,
    });
    expect(deleted.statusCode).toBe(204);
    await propagation();
    withinLifetime(cachedAt);
    expect(await passkeysOnB()).toEqual([]);

    await freshSecond();
    const userCachedAt = Date.now();
    expect(await passkeysOnB()).toEqual([]);
    const blocked = await node(0).app.inject({
      method: 'PATCH',
      url: userUrl,
      headers: mgmt,
      payload: { blocked: true },
    });
    expect(blocked.statusCode).toBe(200);
    await propagation();
    withinLifetime(userCachedAt);
    const refused = await me(node(1), 'GET', '/authentication-methods', token);
    expect(refused.statusCode).toBe(401);
  });

  it('counts both nodes against one tenant window', async () => {
    const token = await f.tokenFor(await f.make.user());
    // A burst that straddles a second boundary is retried: the windows are whole seconds.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      await freshSecond();
      const answers = [];
      for (let i = 0; i <= LIMIT; i += 1) answers.push(await me(node(i % 2), 'GET', '/factors', token));
      if (new Set(answers.map((r) => r.headers['x-ratelimit-reset'])).size !== 1) continue;
      expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 429]);
      expect(answers.map((r) => r.headers['x-ratelimit-remaining'])).toEqual(['3', '2', '1', '0', '0']);
      return;
    }
    throw new Error('no burst fitted in one second');
  });
});
