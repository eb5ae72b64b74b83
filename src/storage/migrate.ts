import { Migrator, sql, type Migration, type MigrationProvider } from 'kysely';
import { SCHEMA_CHANGE_LOCK, type Storage } from './db.js';
import * as initial from './migrations/0001-initial.js';
import * as users from './migrations/0002-users.js';
import * as tenantKeys from './migrations/0003-tenant-keys-identities.js';
import * as signIn from './migrations/0005-sign-in.js';
import * as tokens from './migrations/0006-tokens.js';
import * as logs from './migrations/0007-logs.js';
import * as sessions from './migrations/0008-sessions.js';
import * as sessionClients from './migrations/0009-session-clients.js';
import * as passkeys from './migrations/0010-passkeys.js';
import * as mfaEnrolments from './migrations/0011-mfa-enrolments.js';
import * as dpop from './migrations/0012-dpop.js';
import * as secondFactors from './migrations/0013-second-factors.js';
import * as deviceCredentials from './migrations/0014-device-credentials.js';
import * as accountLinks from './migrations/0015-account-links.js';

interface DialectMigration {
  up(db: Parameters<Migration['up']>[0], dialect: Storage['dialect']): Promise<void>;
  down(db: Parameters<Migration['up']>[0], dialect: Storage['dialect']): Promise<void>;
}

const MIGRATIONS: Record<string, DialectMigration> = {
  '0001-initial': initial,
  '0002-users': users,
  '0003-tenant-keys-identities': tenantKeys,
  '0005-sign-in': signIn,
  '0006-tokens': tokens,
  '0007-logs': logs,
  '0008-sessions': sessions,
  '0009-session-clients': sessionClients,
  '0010-passkeys': passkeys,
  '0011-mfa-enrolments': mfaEnrolments,
  '0012-dpop': dpop,
  '0013-second-factors': secondFactors,
  '0014-device-credentials': deviceCredentials,
  '0015-account-links': accountLinks,
};

function provider(dialect: Storage['dialect']): MigrationProvider {
  return {
    getMigrations: () =>
      Promise.resolve(
        Object.fromEntries(
          Object.entries(MIGRATIONS).map(([name, m]): [string, Migration] => [
            name,
            { up: (db) => m.up(db, dialect), down: (db) => m.down(db, dialect) },
          ]),
        ),
      ),
  };
}

/**
 * Kysely looks for its migration tables in every schema unless told which one; with several schemas in one
 * database (parallel test runs) it would find another schema's lock table and then fail to read its own.
 */
async function migrationTableSchema(storage: Storage): Promise<{ migrationTableSchema?: string }> {
  if (storage.dialect !== 'postgres') return {};
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(
    storage.db,
  );
  const schema = rows[0]?.schema;
  return schema ? { migrationTableSchema: schema } : {};
}

/**
 * Runs a migration step while no other migration or schema drop runs on the database (SCHEMA_CHANGE_LOCK in db.ts):
 * Kysely reads the tables of every schema before taking its own lock, and a table or schema dropped by another
 * migration in the middle of that read fails it ("relation … does not exist"), as happened with parallel test
 * files on one database (a migration test rolling back beside another file's migration). Nodes starting together
 * wait for each other here, as they would on Kysely's own lock. Tests that rename a table or list the tables of the
 * database hold it too.
 */
export async function aloneOnTheDatabase<T>(storage: Storage, step: () => Promise<T>): Promise<T> {
  if (storage.dialect !== 'postgres') return step();
  return storage.db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${sql.lit(SCHEMA_CHANGE_LOCK)})`.execute(conn);
    try {
      return await step();
    } finally {
      await sql`select pg_advisory_unlock(${sql.lit(SCHEMA_CHANGE_LOCK)})`.execute(conn);
    }
  });
}

/** Applies every pending migration; a no-op when the schema is current. */
export async function migrateToLatest(storage: Storage): Promise<string[]> {
  const migrator = new Migrator({
    db: storage.db,
    provider: provider(storage.dialect),
    ...(await migrationTableSchema(storage)),
  });
  const { error, results } = await aloneOnTheDatabase(storage, () => migrator.migrateToLatest());
  if (error) throw error instanceof Error ? error : new Error('migration failed', { cause: error });
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Migrates up or down to exactly `name` (used by the migration tests to start from an older schema). */
export async function migrateTo(storage: Storage, name: string): Promise<void> {
  const migrator = new Migrator({
    db: storage.db,
    provider: provider(storage.dialect),
    ...(await migrationTableSchema(storage)),
  });
  const { error } = await aloneOnTheDatabase(storage, () => migrator.migrateTo(name));
  if (error) throw error instanceof Error ? error : new Error('migration failed', { cause: error });
}

/** Rolls back one migration (used by the migration round-trip test). */
export async function migrateDown(storage: Storage): Promise<void> {
  const migrator = new Migrator({
    db: storage.db,
    provider: provider(storage.dialect),
    ...(await migrationTableSchema(storage)),
  });
  const { error } = await aloneOnTheDatabase(storage, () => migrator.migrateDown());
  if (error) throw error instanceof Error ? error : new Error('migration failed', { cause: error });
}
