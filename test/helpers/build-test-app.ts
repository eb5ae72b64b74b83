import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { bootstrapTenant } from '../../src/bootstrap/service.js';
import { DEFAULT_SERVER_SETTINGS, type Config } from '../../src/config/schema.js';
import { createDeps, type Deps, type DepsOverrides } from '../../src/server/deps.js';
import { createStorage, dropSchema } from '../../src/storage/db.js';
import { migrateToLatest } from '../../src/storage/migrate.js';
import type { TestBackend } from './backends.js';
import { createFakeClock, type FakeClock } from './fake-clock.js';
import { freePort } from './ports.js';
import { createTestKeyGenerator } from './test-keys.js';

export const TEST_ISSUER = 'https://latchkey.test/';
export const MGMT_AUDIENCE = `${TEST_ISSUER}api/v2/`;
export const BOOTSTRAP_CLIENT_ID = 'bootstrap-client';
export const BOOTSTRAP_CLIENT_SECRET = 'bootstrap-secret-0123456789abcdef';
export const UNLIMITED_FAILURES = { limit: 1_000_000_000, windowSeconds: 60 };

export interface TestApp {
  readonly app: FastifyInstance;
  /** The issuer the app was built with. */
  readonly issuer: string;
  readonly deps: Deps;
  readonly clock: FakeClock;
  /** A Management API token holding every scope (from the bootstrap client), cached per app. */
  managementToken(): Promise<string>;
  /** A Management API token holding only `scopes`. */
  managementTokenWith(scopes: readonly string[]): Promise<string>;
  close(): Promise<void>;
}

/** A fresh tenant on a fresh database (SQLite :memory: or a new PostgreSQL schema), fake clock, pooled keys. */
export async function buildTestApp(
  backend: TestBackend = { name: 'sqlite', url: 'sqlite::memory:' },
  configOverrides: Partial<Config> = {},
  depsOverrides: Pick<
    DepsOverrides,
    | 'managementRateLimit'
    | 'failedAuthLimit'
    | 'failedLoginLimits'
    | 'passwordCheckFloorMs'
    | 'redisNamespace'
    | 'searchTimeoutMs'
    | 'logStreamRetryDelaysMs'
    | 'warn'
    | 'mail'
    | 'info'
  > = {},
): Promise<TestApp> {
  const clock = createFakeClock(Date.now());
  const schema = backend.name === 'postgres' ? `t_${randomBytes(6).toString('hex')}` : undefined;
  const storage = await createStorage(backend.url, schema === undefined ? {} : { schema });
  await migrateToLatest(storage);
  const config: Config = Object.freeze({
    port: 0,
    host: '127.0.0.1',
    issuer: TEST_ISSUER,
    databaseUrl: backend.url,
    redisUrl: process.env['LATCHKEY_TEST_REDIS_URL'],
    secret: 'test-secret-test-secret-test-secret-0000',
    bootstrapClientId: BOOTSTRAP_CLIENT_ID,
    bootstrapClientSecret: BOOTSTRAP_CLIENT_SECRET,
    logLevel: 'silent',
    trustProxy: false,
    server: DEFAULT_SERVER_SETTINGS,
    ...configOverrides,
  });
  const deps = createDeps(config, storage, {
    clock,
    generateKey: createTestKeyGenerator(() => clock.now()),
    // Test files fail authentications from 127.0.0.1 on purpose: only the tests of the limit run with one.
    failedAuthLimit: UNLIMITED_FAILURES,
    failedLoginLimits: { perAddress: UNLIMITED_FAILURES, perIdentifier: UNLIMITED_FAILURES },
    // The sign-in floor would add a quarter second to every login; the timing tests set it.
    passwordCheckFloorMs: 0,
    // Each app keeps its Redis keys and invalidation messages to itself, as separate deployments would.
    redisNamespace: `latchkey-test:${randomBytes(6).toString('hex')}:`,
    // Without SMTP, emails go to this log: tests that read them pass their own.
    info: () => undefined,
    ...depsOverrides,
  });
  const dropAll = async () => {
    await deps.close();
    await storage.close();
    if (schema !== undefined) await dropSchema(backend.url, schema);
  };
  // A failed build must not leave its PostgreSQL schema behind.
  const app = await (async () => {
    try {
      await bootstrapTenant(
        {
          tenantId: deps.tenantId,
          issuer: config.issuer,
          bootstrapClientId: BOOTSTRAP_CLIENT_ID,
          bootstrapClientSecret: BOOTSTRAP_CLIENT_SECRET,
        },
        deps,
      );
      // Redis-backed limits fail open until connected: tests start once they count.
      const redis = deps.redis;
      if (redis && redis.status !== 'ready') {
        await new Promise((resolve, reject) => {
          redis.once('ready', resolve);
          setTimeout(() => {
            reject(new Error(`Redis at ${config.redisUrl ?? ''} not ready after 5 s`));
          }, 5000).unref();
        });
      }
      return await buildApp(deps);
    } catch (error) {
      await dropAll();
      throw error;
    }
  })();
  let fullToken: Promise<string> | undefined;
  const tokenWith = async (scope: string | undefined): Promise<string> => {
    const res = await app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: {
        grant_type: 'client_credentials',
        client_id: BOOTSTRAP_CLIENT_ID,
        client_secret: BOOTSTRAP_CLIENT_SECRET,
        audience: `${config.issuer}api/v2/`,
        ...(scope !== undefined ? { scope } : {}),
      },
    });
    if (res.statusCode !== 200) throw new Error(`management token: ${res.statusCode} ${res.body}`);
    return res.json<{ access_token: string }>().access_token;
  };
  return {
    app,
    issuer: config.issuer,
    deps,
    clock,
    managementToken: () => (fullToken ??= tokenWith(undefined)),
    managementTokenWith: (scopes) => tokenWith(scopes.join(' ')),
    async close() {
      await app.close();
      await dropAll();
    },
  };
}

/**
 * A test app listening on 127.0.0.1 at a port the OS hands out, its issuer that URL (`http://127.0.0.1:PORT/`):
 * what browsers and SDK clients talk to.
 */
export async function buildListeningTestApp(
  backend?: TestBackend,
  configOverrides: Partial<Config> = {},
  depsOverrides: Parameters<typeof buildTestApp>[2] = {},
): Promise<TestApp> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${String(port)}/`;
  const t = await buildTestApp(backend, { issuer, ...configOverrides }, depsOverrides);
  await t.app.listen({ port, host: '127.0.0.1' });
  return t;
}
