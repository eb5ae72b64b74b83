import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { bootstrapTenant } from '../../src/bootstrap/service.js';
import { DEFAULT_SERVER_SETTINGS, type Config } from '../../src/config/schema.js';
import { createDeps, type Deps } from '../../src/server/deps.js';
import { createStorage, dropSchema, type Storage } from '../../src/storage/db.js';
import { migrateToLatest } from '../../src/storage/migrate.js';
import {
  BOOTSTRAP_CLIENT_ID,
  BOOTSTRAP_CLIENT_SECRET,
  MGMT_AUDIENCE,
  TEST_ISSUER,
  UNLIMITED_FAILURES,
} from '../helpers/build-test-app.js';
import { dpopKey } from '../helpers/dpop.js';
import { api, clientCredentials } from '../helpers/http.js';
import { createTestKeyGenerator } from '../helpers/test-keys.js';

const pgUrl = process.env['LATCHKEY_TEST_POSTGRES_URL'];
const redisUrl = process.env['LATCHKEY_TEST_REDIS_URL'];

async function eventually(check: () => Promise<boolean>, ms = 3000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}

// Two stateless nodes over one PostgreSQL schema and one Redis: a change on one is seen by the other at once.
describe.skipIf(!pgUrl || !redisUrl)('two nodes sharing PostgreSQL and Redis', () => {
  const schema = `n_${randomBytes(6).toString('hex')}`;
  // One deployment: both nodes share this Redis namespace, no other test app does.
  const redisNamespace = `latchkey-test:${schema}:`;
  const storages: Storage[] = [];
  const nodes: { app: FastifyInstance; deps: Deps }[] = [];

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
      server: DEFAULT_SERVER_SETTINGS,
    });
    for (let i = 0; i < 2; i++) {
      const storage = await createStorage(pgUrl ?? '', { schema });
      storages.push(storage);
      await migrateToLatest(storage);
      const deps = createDeps(config, storage, {
        generateKey: createTestKeyGenerator(() => Date.now()),
        failedAuthLimit: UNLIMITED_FAILURES,
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
  });
  afterAll(async () => {
    for (const n of nodes) {
      await n.app.close();
      await n.deps.close();
    }
    for (const s of storages) await s.close();
    await dropSchema(pgUrl ?? '', schema);
  });

  const node = (i: number) => {
    const n = nodes[i];
    if (!n) throw new Error('node missing');
    return n.app;
  };
  const mgmtToken = async (i: number) =>
    (
      await node(i).inject({
        method: 'POST',
        url: '/oauth/token',
        payload: {
          grant_type: 'client_credentials',
          client_id: BOOTSTRAP_CLIENT_ID,
          client_secret: BOOTSTRAP_CLIENT_SECRET,
          audience: MGMT_AUDIENCE,
        },
      })
    ).json<{ access_token: string }>().access_token;

  it('a policy change on node A takes effect on node B without waiting for cache expiry', async () => {
    const token = await mgmtToken(0);
    const rs = (
      await api(node(0), {
        method: 'POST',
        url: '/api/v2/resource-servers',
        token,
        body: { identifier: 'https://two-nodes.example.com/', scopes: [{ value: 'x' }] },
      })
    ).json<{ id: string }>();
    const client = (
      await api(node(0), {
        method: 'POST',
        url: '/api/v2/clients',
        token,
        body: { name: 'n', app_type: 'non_interactive' },
      })
    ).json<{ client_id: string; client_secret: string }>();
    await api(node(0), {
      method: 'POST',
      url: '/api/v2/client-grants',
      token,
      body: { client_id: client.client_id, audience: 'https://two-nodes.example.com/', scope: ['x'] },
    });
    const cc = () =>
      node(1).inject({
        method: 'POST',
        url: '/oauth/token',
        payload: {
          grant_type: 'client_credentials',
          client_id: client.client_id,
          client_secret: client.client_secret,
          audience: 'https://two-nodes.example.com/',
        },
      });
    expect((await cc()).statusCode).toBe(200);
    await api(node(0), {
      method: 'PATCH',
      url: `/api/v2/resource-servers/${rs.id}`,
      token,
      body: { subject_type_authorization: { client: { policy: 'deny_all' } } },
    });
    expect(await eventually(async () => (await cc()).statusCode === 403, 2000)).toBe(true);
  });

  it("a user PATCH on node A leaves node B's caches alone; a client PATCH clears them", async () => {
    const token = await mgmtToken(0);
    const created = await api(node(0), {
      method: 'POST',
      url: '/api/v2/clients',
      token,
      body: { name: 'cached on B', app_type: 'non_interactive' },
    });
    const client = created.json<{ client_id: string; client_secret: string }>();
    await api(node(0), {
      method: 'POST',
      url: '/api/v2/client-grants',
      token,
      body: { client_id: client.client_id, audience: MGMT_AUDIENCE, scope: ['read:users'] },
    });
    const user = (
      await api(node(0), {
        method: 'POST',
        url: '/api/v2/users',
        token,
        body: {
          connection: 'Username-Password-Authentication',
          email: 'b@example.com',
          password: 'Aa1!aaaaaaaa',
        },
      })
    ).json<{ user_id: string }>();
    const oldSecret = { clientId: client.client_id, clientSecret: client.client_secret };
    const onB = async () => (await clientCredentials(node(1), oldSecret, MGMT_AUDIENCE)).statusCode;
    expect(await onB()).toBe(200);
    // Change the secret behind the caches' back: node B keeps answering from its cache until told.
    const stored = await nodes[0]?.deps.store.clients.findById(client.client_id);
    if (!stored) throw new Error('client missing');
    await nodes[0]?.deps.store.clients.update({
      ...stored,
      clientSecret: 'changed-in-storage-0123456789abcdef',
    });

    const heard: string[] = [];
    const listener = new Redis(redisUrl ?? '');
    listener.on('message', (_channel: string, message: string) => heard.push(message));
    await listener.subscribe(`${redisNamespace}invalidate`);
    try {
      const patchedUser = await api(node(0), {
        method: 'PATCH',
        url: `/api/v2/users/${encodeURIComponent(user.user_id)}`,
        token,
        body: { user_metadata: { plan: 'gold' } },
      });
      expect(patchedUser.statusCode).toBe(200);
      expect(await onB()).toBe(200);
      const patchedClient = await api(node(0), {
        method: 'PATCH',
        url: `/api/v2/clients/${client.client_id}`,
        token,
        body: { name: 'renamed' },
      });
      expect(patchedClient.statusCode).toBe(200);
      expect(await eventually(async () => (await onB()) === 401, 2000)).toBe(true);
      // Messages from one publisher arrive in order: the user PATCH sent only its user's (what My Account
      // caches of that user), never a configuration one.
      expect(heard).toEqual([`user:${user.user_id}`, 'config']);
    } finally {
      await listener.quit();
    }
  });

  it('a DPoP proof used on node A is refused on node B; a nonce from A is good on B', async () => {
    const key = await dpopKey(() => Math.floor(Date.now() / 1000));
    const tokenUrl = `${TEST_ISSUER}oauth/token`;
    const body = {
      grant_type: 'client_credentials',
      client_id: BOOTSTRAP_CLIENT_ID,
      client_secret: BOOTSTRAP_CLIENT_SECRET,
      audience: MGMT_AUDIENCE,
    };
    const proof = await key.proof('POST', tokenUrl);
    const onA = await node(0).inject({
      method: 'POST',
      url: '/oauth/token',
      payload: body,
      headers: { dpop: proof },
    });
    expect(onA.statusCode).toBe(200);
    const onB = await node(1).inject({
      method: 'POST',
      url: '/oauth/token',
      payload: body,
      headers: { dpop: proof },
    });
    expect(onB.statusCode).toBe(400);
    expect(onB.json()).toEqual({
      error: 'invalid_dpop_proof',
      error_description: 'DPoP proof jti was already used',
    });
    // Stateless nonces: both nodes hand out and accept the same ones.
    expect(onB.headers['dpop-nonce']).toBe(onA.headers['dpop-nonce']);

    const token = onA.json<{ access_token: string }>().access_token;
    const url = '/api/v2/clients?fields=client_id';
    const headers = {
      authorization: `DPoP ${token}`,
      dpop: await key.proof('GET', `${TEST_ISSUER}api/v2/clients`, { accessToken: token }),
    };
    expect((await node(0).inject({ method: 'GET', url, headers })).statusCode).toBe(200);
    const replayed = await node(1).inject({ method: 'GET', url, headers });
    expect(replayed.statusCode).toBe(401);
    expect(replayed.headers['www-authenticate']).toContain('error="invalid_dpop_proof"');
  });

  it('a key rotation and revocation on node A reach node B', async () => {
    const oldToken = await mgmtToken(1);
    // Node B remembers the token as verified; revoking its key must still take effect there.
    expect(
      (await api(node(1), { method: 'GET', url: '/api/v2/keys/signing', token: oldToken })).statusCode,
    ).toBe(200);
    const token = await mgmtToken(0);
    const keys = (await api(node(0), { method: 'GET', url: '/api/v2/keys/signing', token })).json<
      { kid: string; current?: boolean }[]
    >();
    const oldKid = keys.find((k) => k.current)?.kid ?? '';
    await api(node(0), { method: 'POST', url: '/api/v2/keys/signing/rotate', token });
    const jwksOnB = async () =>
      (await node(1).inject({ method: 'GET', url: '/.well-known/jwks.json' })).json<{ keys: unknown[] }>()
        .keys.length;
    expect(await eventually(async () => (await jwksOnB()) === 3)).toBe(true);
    const fresh = await mgmtToken(0);
    await api(node(0), { method: 'PUT', url: `/api/v2/keys/signing/${oldKid}/revoke`, token: fresh });
    expect(
      await eventually(
        async () =>
          (await api(node(1), { method: 'GET', url: '/api/v2/keys/signing', token: oldToken })).statusCode ===
          401,
      ),
    ).toBe(true);
  });
});
