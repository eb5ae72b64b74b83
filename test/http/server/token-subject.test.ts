import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/app.js';
import { bootstrapTenant } from '../../../src/bootstrap/service.js';
import { DEFAULT_SERVER_SETTINGS, type Config } from '../../../src/config/schema.js';
import type { Client } from '../../../src/domain/client.js';
import { createDeps } from '../../../src/server/deps.js';
import { createStorage, dropSchema } from '../../../src/storage/db.js';
import { migrateToLatest } from '../../../src/storage/migrate.js';
import { testBackends } from '../../helpers/backends.js';
import {
  BOOTSTRAP_CLIENT_ID,
  BOOTSTRAP_CLIENT_SECRET,
  buildTestApp,
  MGMT_AUDIENCE,
  TEST_ISSUER,
  UNLIMITED_FAILURES,
  type TestApp,
} from '../../helpers/build-test-app.js';
import { createFakeClock } from '../../helpers/fake-clock.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { api } from '../../helpers/http.js';
import { createTestKeyGenerator } from '../../helpers/test-keys.js';

const INVALID_TOKEN = {
  statusCode: 401,
  error: 'Unauthorized',
  message: 'Invalid token',
  errorCode: 'invalid_token',
};

// Issue 9: a token acting for a user finds that user existing, unblocked and created before the token.
describe.each(testBackends())('tokens acting for a user on $name', (backend) => {
  let t: TestApp;
  let make: Factories;
  let spa: Client;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    make = createFactories(t.deps);
    spa = await make.client({ grantTypes: ['password'], tokenEndpointAuthMethod: 'client_secret_post' });
    await make.enableConnection(spa.clientId);
    await make.grant({
      clientId: spa.clientId,
      audience: MGMT_AUDIENCE,
      subjectType: 'user',
      scope: ['read:current_user', 'update:current_user_metadata'],
    });
  });
  afterAll(async () => {
    await t.close();
  });

  /** A user's Management API token as an SPA gets it, or (`userinfo`) a token for /userinfo. */
  const userToken = async (email: string, userinfo = false) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: {
        grant_type: 'password',
        client_id: spa.clientId,
        client_secret: spa.clientSecret,
        username: email,
        password: 'Pass-word-123',
        ...(userinfo
          ? { scope: 'openid' }
          : { audience: MGMT_AUDIENCE, scope: 'read:current_user update:current_user_metadata' }),
      },
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ access_token: string }>().access_token;
  };
  const admin = () => t.managementTokenWith(['update:users', 'delete:users', 'create:users', 'read:users']);
  const userUrl = (id: string) => `/api/v2/users/${encodeURIComponent(id)}`;
  const userinfo = (bearer: string) =>
    t.app.inject({ method: 'GET', url: '/userinfo', headers: { authorization: `Bearer ${bearer}` } });

  it('a blocked user’s token neither reads nor updates the user, even once its verification is remembered', async () => {
    const user = await make.user({ userMetadata: { theme: 'dark' } });
    const bearer = await userToken(user.email ?? '');
    const infoBearer = await userToken(user.email ?? '', true);
    expect((await userinfo(infoBearer)).statusCode).toBe(200);
    // Verified and remembered by this node.
    expect((await api(t.app, { method: 'GET', url: userUrl(user.userId), token: bearer })).statusCode).toBe(
      200,
    );
    const block = await api(t.app, {
      method: 'PATCH',
      url: userUrl(user.userId),
      token: await admin(),
      body: { blocked: true },
    });
    expect(block.statusCode).toBe(200);
    const read = await api(t.app, { method: 'GET', url: userUrl(user.userId), token: bearer });
    expect(read.statusCode).toBe(401);
    expect(read.json()).toEqual(INVALID_TOKEN);
    const write = await api(t.app, {
      method: 'PATCH',
      url: userUrl(user.userId),
      token: bearer,
      body: { user_metadata: { theme: 'light' } },
    });
    expect(write.statusCode).toBe(401);
    expect(write.json()).toEqual(INVALID_TOKEN);
    expect((await t.deps.store.users.findById(user.userId))?.userMetadata).toEqual({ theme: 'dark' });

    const info = await userinfo(infoBearer);
    expect(info.statusCode).toBe(401);
    expect(info.headers['www-authenticate']).toBe(
      `Bearer realm="${TEST_ISSUER}", error="invalid_token", error_description="The user is blocked"`,
    );
    expect(info.json()).toEqual({ error: 'invalid_token', error_description: 'The user is blocked' });
  });

  it('a deleted user’s token does not read the new user given the same user_id', async () => {
    const id = `reused-${randomBytes(4).toString('hex')}`;
    const create = async () =>
      api(t.app, {
        method: 'POST',
        url: '/api/v2/users',
        token: await admin(),
        body: {
          connection: 'Username-Password-Authentication',
          user_id: id,
          email: `${id}@example.com`,
          password: 'Pass-word-123',
          user_metadata: { owner: 'first' },
        },
      });
    expect((await create()).statusCode).toBe(201);
    const userId = `auth0|${id}`;
    const bearer = await userToken(`${id}@example.com`);
    const infoBearer = await userToken(`${id}@example.com`, true);
    expect((await api(t.app, { method: 'GET', url: userUrl(userId), token: bearer })).statusCode).toBe(200);
    expect((await userinfo(infoBearer)).statusCode).toBe(200);
    expect(
      (await api(t.app, { method: 'DELETE', url: userUrl(userId), token: await admin() })).statusCode,
    ).toBe(204);
    t.clock.advance(2000);
    expect((await create()).statusCode).toBe(201);
    const read = await api(t.app, { method: 'GET', url: userUrl(userId), token: bearer });
    expect(read.statusCode).toBe(401);
    expect(read.json()).toEqual(INVALID_TOKEN);
    const info = await userinfo(infoBearer);
    expect(info.statusCode).toBe(401);
    expect(info.json()).toEqual({ error: 'invalid_token', error_description: 'The user no longer exists' });
    // The new user's own tokens work.
    const fresh = await userToken(`${id}@example.com`);
    expect((await api(t.app, { method: 'GET', url: userUrl(userId), token: fresh })).statusCode).toBe(200);
    expect((await userinfo(await userToken(`${id}@example.com`, true))).statusCode).toBe(200);
  });

  it('a token issued in the second the user was created is the user’s own', async () => {
    const user = await make.user();
    const bearer = await userToken(user.email ?? '');
    expect((await api(t.app, { method: 'GET', url: userUrl(user.userId), token: bearer })).statusCode).toBe(
      200,
    );
  });
});

// Issue 8's bench: a client-credentials token must not pay for a user lookup on the read path.
describe.each(testBackends())('client-credentials reads on $name', (backend) => {
  const statements: string[] = [];
  let close: () => Promise<void>;
  let app: Awaited<ReturnType<typeof buildApp>>;
  beforeAll(async () => {
    const schema = backend.name === 'postgres' ? `s_${randomBytes(6).toString('hex')}` : undefined;
    const storage = await createStorage(backend.url, {
      ...(schema === undefined ? {} : { schema }),
      onQuery: (text) => statements.push(text),
    });
    await migrateToLatest(storage);
    const config: Config = Object.freeze({
      port: 0,
      host: '127.0.0.1',
      issuer: TEST_ISSUER,
      databaseUrl: backend.url,
      redisUrl: undefined,
      secret: 'test-secret-test-secret-test-secret-0000',
      bootstrapClientId: BOOTSTRAP_CLIENT_ID,
      bootstrapClientSecret: BOOTSTRAP_CLIENT_SECRET,
      logLevel: 'silent',
      trustProxy: false,
      server: DEFAULT_SERVER_SETTINGS,
    });
    const clock = createFakeClock(Date.now());
    const deps = createDeps(config, storage, {
      clock,
      generateKey: createTestKeyGenerator(() => clock.now()),
      failedAuthLimit: UNLIMITED_FAILURES,
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
    app = await buildApp(deps);
    close = async () => {
      await app.close();
      await deps.close();
      await storage.close();
      if (schema !== undefined) await dropSchema(backend.url, schema);
    };
  });
  afterAll(async () => {
    await close();
  });

  it('reads through the Management API without looking up any user', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: {
        grant_type: 'client_credentials',
        client_id: BOOTSTRAP_CLIENT_ID,
        client_secret: BOOTSTRAP_CLIENT_SECRET,
        audience: MGMT_AUDIENCE,
      },
    });
    const bearer = res.json<{ access_token: string }>().access_token;
    statements.length = 0;
    for (let i = 0; i < 3; i += 1) {
      const read = await api(app, { method: 'GET', url: '/api/v2/resource-servers', token: bearer });
      expect(read.statusCode).toBe(200);
    }
    expect(statements.length).toBeGreaterThan(0);
    expect(statements.filter((s) => s.includes('"users"'))).toEqual([]);
  });
});
