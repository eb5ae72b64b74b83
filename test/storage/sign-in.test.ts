import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/storage/repositories/index.js';
import { createSecretBox } from '../../src/lib/secret-box.js';
import { createStorage, dropSchema, type Storage } from '../../src/storage/db.js';
import { migrateTo, migrateToLatest } from '../../src/storage/migrate.js';
import { createStore } from '../../src/storage/repositories/index.js';
import { testBackends } from '../helpers/backends.js';
import { openTestStore, ownTableNames, type TestStore, userRow } from '../helpers/store.js';

const T = '2024-01-01T00:00:00.000Z';

describe.each(testBackends())('login failures and password history on $name', (backend) => {
  let opened: TestStore;
  let store: Store;
  beforeAll(async () => {
    opened = await openTestStore(backend);
    store = opened.store;
  });
  afterAll(() => opened.close());

  it('sweeps pairs whose window and block have run out, and keeps the rest', async () => {
    const now = 1_000_000;
    const window = 900;
    await store.loginFailures.reserveAttempt('login:db:stale', '192.0.2.1', now - window - 1, window, 10);
    await store.loginFailures.reserveAttempt('login:db:fresh', '192.0.2.1', now - 10, window, 10);
    // Blocked long ago, block still running.
    for (let i = 0; i < 10; i++) {
      await store.loginFailures.reserveAttempt('auth0|blocked', '192.0.2.1', now - window - 60, window, 10);
    }
    await store.loginFailures.recordFailure('auth0|blocked', '192.0.2.1', now - 100, 10, window);
    await store.loginFailures.prune(now, window);
    const { rows } = await sql<{
      subject: string;
    }>`select subject from login_failures order by subject`.execute(opened.storage.db);
    expect(rows.map((r) => r.subject)).toEqual(['auth0|blocked', 'login:db:fresh']);
    expect(await store.loginFailures.blocksFor(['auth0|blocked', 'login:db:fresh'], now)).toEqual([
      { subject: 'auth0|blocked', ip: '192.0.2.1', blockedUntil: now - 100 + window },
    ]);
  });

  it('keeps the newest previous passwords of an identity in order, and drops them with it', async () => {
    const u = userRow('history1', { email: 'history1@example.com' });
    await store.users.insert(u);
    const identity = u.identities[0]!;
    for (const hash of ['h1', 'h2', 'h3', 'h4']) await store.passwordHistory.add(identity, hash, T, 2);
    expect(await store.passwordHistory.recent(identity, 24)).toEqual(['h4', 'h3']);
    expect(await store.passwordHistory.recent(identity, 1)).toEqual(['h4']);
    expect(await store.users.delete(u.userId)).toBe(true);
    expect(await store.passwordHistory.recent(identity, 24)).toEqual([]);
  });
});

describe.each(testBackends())('migration 0005 (sign-in) on $name', (backend) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  let schema: string | undefined;
  async function open(): Promise<Storage> {
    schema = backend.name === 'postgres' ? `m_${randomBytes(6).toString('hex')}` : undefined;
    const storage = await createStorage(backend.url, schema === undefined ? {} : { schema });
    cleanups.push(async () => {
      await storage.close();
      if (schema !== undefined) await dropSchema(backend.url, schema);
    });
    return storage;
  }

  it('keeps existing blocks under the user id, and rolls back to per-user counters', async () => {
    const storage = await open();
    await migrateTo(storage, '0003-tenant-keys-identities');
    await sql`insert into tenants (id, settings, bootstrap_client_id, created_at) values ('default', '{}', null, ${T})`.execute(
      storage.db,
    );
    await sql`insert into login_failures (tenant_id, user_id, ip, failures, window_start, blocked_until)
      values ('default', 'auth0|abc', '192.0.2.9', 10, 100, 4000000000)`.execute(storage.db);
    expect(await migrateToLatest(storage)).toContain('0005-sign-in');

    const store = createStore(storage, 'default', createSecretBox('m'.repeat(32)));
    expect(await store.loginFailures.blocksFor(['auth0|abc'], 0)).toEqual([
      { subject: 'auth0|abc', ip: '192.0.2.9', blockedUntil: 4_000_000_000 },
    ]);
    await store.loginFailures.reserveAttempt('login:db:ghost@example.com', '192.0.2.9', 100, 900, 10);

    await migrateTo(storage, '0003-tenant-keys-identities');
    const { rows } = await sql<{
      user_id: string;
      ip: string;
    }>`select user_id, ip from login_failures`.execute(storage.db);
    expect(rows).toEqual([{ user_id: 'auth0|abc', ip: '192.0.2.9' }]);
    const own = await ownTableNames(storage, schema);
    expect(own).toContain('login_failures');
    expect(own).not.toContain('password_history');
  });
});
