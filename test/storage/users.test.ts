import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../src/domain/user.js';
import { createSecretBox } from '../../src/lib/secret-box.js';
import { createStorage, dropSchema, type Storage } from '../../src/storage/db.js';
import { migrateToLatest } from '../../src/storage/migrate.js';
import { createStore, type Store } from '../../src/storage/repositories/index.js';
import { testBackends } from '../helpers/backends.js';

let n = 0;
function user(over: Partial<User> = {}): User {
  const id = `u${n++}`;
  return {
    tenantId: 'default',
    userId: `auth0|${id}`,
    connection: 'Username-Password-Authentication',
    email: `${id}@example.com`,
    emailVerified: false,
    username: undefined,
    phoneNumber: undefined,
    phoneVerified: false,
    name: undefined,
    givenName: undefined,
    familyName: undefined,
    nickname: undefined,
    picture: undefined,
    userMetadata: {},
    appMetadata: {},
    passwordHash: '$2b$04$old',
    lastPasswordReset: undefined,
    blocked: false,
    loginsCount: 0,
    lastLogin: undefined,
    lastIp: undefined,
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
    ...over,
  };
}

describe.each(testBackends())('user repository login bookkeeping on $name', (backend) => {
  let storage: Storage;
  let store: Store;
  const schema = `s_${randomBytes(6).toString('hex')}`;
  beforeAll(async () => {
    storage = await createStorage(backend.url, backend.name === 'postgres' ? { schema } : {});
    await migrateToLatest(storage);
    store = createStore(storage, 'default', createSecretBox('x'.repeat(32)));
    await store.tenants.ensure({}, '2024-01-01T00:00:00.000Z');
  });
  afterAll(async () => {
    await storage.close();
    if (backend.name === 'postgres') await dropSchema(backend.url, schema);
  });

  it('stores the rehash only while the verified hash is still the stored one', async () => {
    const u = user();
    await store.users.insert(u);
    // An admin changed the password after the login verified the old one.
    await store.users.update({ ...u, passwordHash: '$argon2id$admin' });
    const stale = await store.users.recordLogin(u.userId, {
      at: '2024-02-01T00:00:00.000Z',
      ip: '192.0.2.1',
      rehash: { verified: '$2b$04$old', replacement: '$argon2id$login' },
    });
    expect(stale).toMatchObject({ passwordHash: '$argon2id$admin', loginsCount: 1, lastIp: '192.0.2.1' });

    const current = await store.users.recordLogin(u.userId, {
      at: '2024-02-02T00:00:00.000Z',
      ip: '192.0.2.2',
      rehash: { verified: '$argon2id$admin', replacement: '$argon2id$login' },
    });
    expect(current).toMatchObject({ passwordHash: '$argon2id$login', loginsCount: 2 });
  });

  it('never undoes a login through a profile update, and records no login for a blocked user', async () => {
    const u = user();
    await store.users.insert(u);
    await store.users.recordLogin(u.userId, { at: '2024-02-01T00:00:00.000Z', ip: '192.0.2.1' });
    // `u` was read before the login: writing it back must keep the login columns.
    const updated = await store.users.update({ ...u, blocked: true });
    expect(updated).toMatchObject({ blocked: true, loginsCount: 1, lastLogin: '2024-02-01T00:00:00.000Z' });
    expect(await store.users.recordLogin(u.userId, { at: '2024-02-02T00:00:00.000Z', ip: '192.0.2.2' })).toBe(
      undefined,
    );
    expect(await store.users.findById(u.userId)).toMatchObject({ loginsCount: 1, blocked: true });
  });
});
