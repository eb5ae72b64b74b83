import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/lib/secret-box.js';
import { createStorage, dropSchema, type Storage } from '../../src/storage/db.js';
import { migrateTo } from '../../src/storage/migrate.js';
import { createStore } from '../../src/storage/repositories/index.js';
import { testBackends } from '../helpers/backends.js';

const T = '2024-01-01T00:00:00.000Z';
const box = createSecretBox('m'.repeat(32));

/** A tenant, a client, a user and one refresh token, as the 0003 schema holds them. */
async function writeV3Rows(storage: Storage): Promise<void> {
  const db = storage.db;
  await sql`insert into tenants (id, settings, bootstrap_client_id, created_at) values ('default', '{}', null, ${T})`.execute(
    db,
  );
  await sql`insert into clients (tenant_id, client_id, client_secret, name, app_type, is_first_party, is_system,
      token_endpoint_auth_method, private_key_jwt_credentials, grant_types, settings, created_at, updated_at)
    values ('default', 'app1', ${box.seal('s')}, 'App', 'native', 1, 0, 'none', '[]', '["refresh_token"]', '{}', ${T}, ${T})`.execute(
    db,
  );
  await sql`insert into users (tenant_id, user_id, email_verified, phone_verified, user_metadata, app_metadata,
      blocked, logins_count, created_at, updated_at)
    values ('default', 'auth0|u1', 0, 0, '{}', '{}', 0, 0, ${T}, ${T})`.execute(db);
  await sql`insert into refresh_tokens (tenant_id, id, token_hash, family_id, user_id, client_id, audience, scope,
      rotating, created_at, expires_at, idle_expires_at, last_used_at, rotated_at, revoked_at)
    values ('default', 'rt_1', 'hash-1', 'rtf_1', 'auth0|u1', 'app1', 'https://api.example.com/',
      '["offline_access"]', 0, 1700000000, null, null, null, null, null)`.execute(db);
}

describe.each(testBackends())(
  'migration 0006 (refresh-token device and revocation reason) on $name',
  (backend) => {
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

    it('keeps existing refresh tokens up, down and up again', async () => {
      const storage = await open();
      await migrateTo(storage, '0003-tenant-keys-identities');
      await writeV3Rows(storage);
      await migrateTo(storage, '0006-tokens');
      const store = createStore(storage, 'default', box);
      expect(await store.refreshTokens.findByHash('hash-1')).toMatchObject({
        id: 'rt_1',
        revokedReason: undefined,
        device: {
          initialIp: undefined,
          initialUserAgent: undefined,
          lastIp: undefined,
          lastUserAgent: undefined,
        },
      });
      await store.refreshTokens.touch('rt_1', 1_700_000_100, undefined, {
        ip: '192.0.2.1',
        userAgent: 'App/1',
      });
      await store.refreshTokens.revokeFamily('rtf_1', 1_700_000_200, 'user_blocked');
      expect(await store.refreshTokens.findByHash('hash-1')).toMatchObject({
        revokedAt: 1_700_000_200,
        revokedReason: 'user_blocked',
        device: { lastIp: '192.0.2.1', lastUserAgent: 'App/1' },
      });

      await migrateTo(storage, '0003-tenant-keys-identities');
      const { rows } = await sql<{ id: string; revoked_at: number }>`
      select id, revoked_at from refresh_tokens`.execute(storage.db);
      expect(rows.map((r) => ({ id: r.id, revoked_at: r.revoked_at }))).toEqual([
        { id: 'rt_1', revoked_at: 1_700_000_200 },
      ]);

      await migrateTo(storage, '0006-tokens');
      expect(await store.refreshTokens.findByHash('hash-1')).toMatchObject({
        id: 'rt_1',
        revokedAt: 1_700_000_200,
        revokedReason: undefined,
        device: { lastIp: undefined },
      });
    });
  },
);
