import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createStorage, dropSchema, type Storage } from '../../src/storage/db.js';
import { migrateDown, migrateToLatest } from '../../src/storage/migrate.js';
import { testBackends } from '../helpers/backends.js';

const TABLES = [
  'client_credentials',
  'client_grants',
  'clients',
  'connections',
  'consents',
  'login_failures',
  'refresh_tokens',
  'resource_servers',
  'role_permissions',
  'roles',
  'signing_keys',
  'tenants',
  'used_jtis',
  'user_permissions',
  'user_roles',
  'users',
];

async function tableNames(storage: Storage): Promise<string[]> {
  const tables = await storage.db.introspection.getTables();
  return tables
    .map((t) => t.name)
    .filter((n) => !n.startsWith('kysely_'))
    .sort();
}

describe.each(testBackends())('migrations on $name', (backend) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  async function open(): Promise<Storage> {
    const schema = backend.name === 'postgres' ? `m_${randomBytes(6).toString('hex')}` : undefined;
    const storage = await createStorage(backend.url, schema === undefined ? {} : { schema });
    cleanups.push(async () => {
      await storage.close();
      if (schema !== undefined) await dropSchema(backend.url, schema);
    });
    return storage;
  }

  it('runs up, down and up again', async () => {
    const storage = await open();
    expect(await migrateToLatest(storage)).toEqual(['0001-initial', '0002-users']);
    expect(await tableNames(storage)).toEqual(TABLES);
    await migrateDown(storage);
    await migrateDown(storage);
    expect(await tableNames(storage)).toEqual([]);
    expect(await migrateToLatest(storage)).toEqual(['0001-initial', '0002-users']);
    expect(await tableNames(storage)).toEqual(TABLES);
  });

  it('is idempotent: a second run applies nothing', async () => {
    const storage = await open();
    await migrateToLatest(storage);
    expect(await migrateToLatest(storage)).toEqual([]);
  });
});
