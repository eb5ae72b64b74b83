import type { Selectable } from 'kysely';
import type { HttpSink, LogStream, LogStreamFilter, LogStreamStatus } from '../../domain/log-stream.js';
import type { SecretBox } from '../../lib/secret-box.js';
import type { DbOrTx } from '../db.js';
import { fromBool, fromJson, toBool, toJson } from '../json.js';
import type { LogStreamsTable } from '../schema.js';

/** The tenant's log streams; the sink's authorization header value is sealed at rest, like client secrets. */
export function createLogStreamRepository(db: DbOrTx, tenantId: string, box: SecretBox) {
  const toRecord = (row: Selectable<LogStreamsTable>): LogStream => {
    const sink = fromJson<HttpSink>(row.sink);
    return {
      id: row.id,
      name: row.name,
      type: 'http',
      status: row.status as LogStreamStatus,
      sink:
        sink.httpAuthorization === undefined
          ? sink
          : { ...sink, httpAuthorization: box.open(sink.httpAuthorization) },
      filters: row.filters === null ? undefined : fromJson<LogStreamFilter[]>(row.filters),
      isPriority: toBool(row.is_priority),
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  };
  const toRow = (s: LogStream): Selectable<LogStreamsTable> => ({
    tenant_id: tenantId,
    id: s.id,
    name: s.name,
    type: s.type,
    status: s.status,
    sink: toJson(
      s.sink.httpAuthorization === undefined
        ? s.sink
        : { ...s.sink, httpAuthorization: box.seal(s.sink.httpAuthorization) },
    ),
    filters: s.filters === undefined ? null : toJson(s.filters),
    is_priority: fromBool(s.isPriority),
    // Latchkey refuses pii_config (it would not apply it); the column waits for that feature.
    pii_config: null,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
  });
  const base = () => db.selectFrom('log_streams').selectAll().where('tenant_id', '=', tenantId);

  return {
    /** Every stream of the tenant, oldest first. */
    async list(): Promise<LogStream[]> {
      const rows = await base().orderBy('created_at').orderBy('id').execute();
      return rows.map(toRecord);
    },
    async findById(id: string): Promise<LogStream | undefined> {
      const row = await base().where('id', '=', id).executeTakeFirst();
      return row && toRecord(row);
    },
    async insert(stream: LogStream): Promise<void> {
      await db.insertInto('log_streams').values(toRow(stream)).execute();
    },
    /** Replaces every field but the id and creation time. */
    async update(stream: LogStream): Promise<void> {
      const { tenant_id: _t, id: _i, created_at: _c, ...fields } = toRow(stream);
      await db
        .updateTable('log_streams')
        .set(fields)
        .where('tenant_id', '=', tenantId)
        .where('id', '=', stream.id)
        .execute();
    },
    /** True when the stream existed. */
    async delete(id: string): Promise<boolean> {
      const r = await db
        .deleteFrom('log_streams')
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return r.numDeletedRows > 0n;
    },
  };
}
export type LogStreamRepository = ReturnType<typeof createLogStreamRepository>;
