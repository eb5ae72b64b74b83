import type { Kysely } from 'kysely';
import type { DialectName } from '../db.js';
import { inTransaction } from './in-transaction.js';

/*
 * Issue #9, visibility: Auth0's tenant logs (one row per event, pruned after the retention period) and its
 * HTTP log streams.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await inTransaction(db, dialect, async () => {
    await db.schema
      .createTable('logs')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      // Sorts as it was recorded: a UTC timestamp, a per-node sequence, then randomness (lib/log-ids.ts).
      .addColumn('log_id', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('client_id', 'text')
      .addColumn('client_name', 'text')
      .addColumn('connection', 'text')
      .addColumn('connection_id', 'text')
      .addColumn('strategy', 'text')
      .addColumn('strategy_type', 'text')
      .addColumn('user_id', 'text')
      .addColumn('user_name', 'text')
      .addColumn('audience', 'text')
      .addColumn('scope', 'text')
      .addColumn('ip', 'text')
      .addColumn('user_agent', 'text')
      .addColumn('hostname', 'text')
      .addColumn('details', 'text')
      .addPrimaryKeyConstraint('logs_pk', ['tenant_id', 'log_id'])
      .execute();
    await db.schema.createIndex('logs_tenant_at').on('logs').columns(['tenant_id', 'at']).execute();
    await db.schema
      .createIndex('logs_tenant_user_at')
      .on('logs')
      .columns(['tenant_id', 'user_id', 'at'])
      .execute();
    await db.schema
      .createIndex('logs_tenant_type_at')
      .on('logs')
      .columns(['tenant_id', 'type', 'at'])
      .execute();
    await db.schema
      .createTable('log_streams')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      // JSON; the sink's authorization header value is sealed with the tenant secret.
      .addColumn('sink', 'text', (c) => c.notNull())
      .addColumn('filters', 'text')
      .addColumn('is_priority', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('pii_config', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('log_streams_pk', ['tenant_id', 'id'])
      .execute();
  });
}

export async function down(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await inTransaction(db, dialect, async () => {
    await db.schema.dropTable('log_streams').execute();
    await db.schema.dropTable('logs').execute();
  });
}
