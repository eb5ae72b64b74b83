import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createStorage, dropSchema, type Storage } from '../../src/storage/db.js';
import { migrateDown, migrateToLatest } from '../../src/storage/migrate.js';
import { testBackends } from '../helpers/backends.js';
import { ownTableNames } from '../helpers/store.js';

const ALL = [
  '0001-initial',
  '0002-users',
  '0003-tenant-keys-identities',
  '0005-sign-in',
  '0006-tokens',
  '0007-logs',
  '0008-sessions',
  '0009-session-clients',
  '0010-passkeys',
  '0011-mfa-enrolments',
  '0012-dpop',
  '0013-second-factors',
  '0014-device-credentials',
  '0015-account-links',
];

const TABLES = [
  'client_credentials',
  'client_grants',
  'clients',
  'connections',
  'consents',
  'device_credentials',
  'identities',
  'log_streams',
  'login_failures',
  'logs',
  'mfa_enrolments',
  'one_time_values',
  'passkeys',
  'password_history',
  'refresh_tokens',
  'resource_servers',
  'role_permissions',
  'roles',
  'session_clients',
  'sessions',
  'signing_keys',
  'tenants',
  'user_permissions',
  'user_roles',
  'users',
];

describe.each(testBackends())('migrations on $name', (backend) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  let schema: string | undefined;
  async function open(): Promise<Storage> {
    const own = backend.name === 'postgres' ? `m_${randomBytes(6).toString('hex')}` : undefined;
    schema = own;
    const storage = await createStorage(backend.url, own === undefined ? {} : { schema: own });
    cleanups.push(async () => {
      await storage.close();
      if (own !== undefined) await dropSchema(backend.url, own);
    });
    return storage;
  }

  it('runs up, down and up again', async () => {
    const storage = await open();
    expect(await migrateToLatest(storage)).toEqual(ALL);
    expect(await ownTableNames(storage, schema)).toEqual(TABLES);
    for (const _ of ALL) await migrateDown(storage);
    expect(await ownTableNames(storage, schema)).toEqual([]);
    expect(await migrateToLatest(storage)).toEqual(ALL);
    expect(await ownTableNames(storage, schema)).toEqual(TABLES);
  });

  it('is idempotent: a second run applies nothing', async () => {
    const storage = await open();
    await migrateToLatest(storage);
    expect(await migrateToLatest(storage)).toEqual([]);
  });
});
