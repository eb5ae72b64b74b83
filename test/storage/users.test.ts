import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../src/domain/user.js';
import type { Store } from '../../src/storage/repositories/index.js';
import { testBackends } from '../helpers/backends.js';
import { openTestStore, type TestStore, userRow } from '../helpers/store.js';

let n = 0;
function user(): User {
  const id = `u${n++}`;
  return userRow(id, { email: `${id}@example.com`, passwordHash: '$2b$04$old' });
}

describe.each(testBackends())('user repository login bookkeeping on $name', (backend) => {
  let opened: TestStore;
  let store: Store;
  beforeAll(async () => {
    opened = await openTestStore(backend);
    store = opened.store;
  });
  afterAll(() => opened.close());

  it('stores the rehash only while the verified hash is still the stored one', async () => {
    const u = user();
    await store.users.insert(u);
    // An admin changed the password after the login verified the old one.
    await store.users.update({
      ...u,
      identities: u.identities.map((i) => ({ ...i, passwordHash: '$argon2id$admin' })),
    });
    const stale = await store.users.recordLogin(u.userId, {
      at: '2024-02-01T00:00:00.000Z',
      ip: '192.0.2.1',
      rehash: { identity: u.identities[0]!, verified: '$2b$04$old', replacement: '$argon2id$login' },
    });
    expect(stale).toMatchObject({ loginsCount: 1, lastIp: '192.0.2.1' });
    expect(stale?.identities[0]?.passwordHash).toBe('$argon2id$admin');

    const current = await store.users.recordLogin(u.userId, {
      at: '2024-02-02T00:00:00.000Z',
      ip: '192.0.2.2',
      rehash: { identity: u.identities[0]!, verified: '$argon2id$admin', replacement: '$argon2id$login' },
    });
    expect(current).toMatchObject({ loginsCount: 2 });
    expect(current?.identities[0]?.passwordHash).toBe('$argon2id$login');
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
