import type { LogEvent, LogType } from '../../domain/log-event.js';
import type { DbOrTx, DialectName } from '../db.js';
import { fromJson, toJson } from '../json.js';
import { compileLogSearch } from '../log-search.js';
import type { LogsTable } from '../schema.js';
import { beforeDeadline } from '../search-deadline.js';
import type { UserSearchOptions } from './users.js';
import type { SearchNode } from '../../users/search-query.js';

export interface LogQuery {
  readonly search?: SearchNode | undefined;
  /** Only this user's events (`GET /users/{id}/logs`). */
  readonly userId?: string | undefined;
  readonly sort: { readonly field: LogSortField; readonly direction: 'asc' | 'desc' };
}

export const LOG_SORT_FIELDS = {
  date: 'at',
  log_id: 'log_id',
  type: 'type',
  client_id: 'client_id',
  client_name: 'client_name',
  user_id: 'user_id',
  user_name: 'user_name',
  connection: 'connection',
  ip: 'ip',
} as const;
export type LogSortField = keyof typeof LOG_SORT_FIELDS;

const ROW_DELETE_BATCH = 5_000;

/** Tenant log events: written in batches by the recorder, read by the Management API. */
export function createLogRepository(
  db: DbOrTx,
  tenantId: string,
  dialect: DialectName,
  search: UserSearchOptions,
) {
  const filtered = (query: LogQuery, deadline: number) => {
    let q = db.selectFrom('logs');
    // First in the WHERE clause: SQLite checks it per scanned row (storage/search-deadline.ts).
    if (dialect === 'sqlite') q = q.where(beforeDeadline(deadline));
    q = q.where('tenant_id', '=', tenantId);
    if (query.userId !== undefined) q = q.where('user_id', '=', query.userId);
    const node = query.search;
    if (node) q = q.where((eb) => compileLogSearch(node, eb));
    return q;
  };
  return {
    async insertMany(events: readonly LogEvent[]): Promise<void> {
      if (events.length === 0) return;
      await db
        .insertInto('logs')
        .values(events.map((event) => toRow(tenantId, event)))
        .execute();
    },
    async findById(logId: string): Promise<LogEvent | undefined> {
      const row = await db
        .selectFrom('logs')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('log_id', '=', logId)
        .executeTakeFirst();
      return row && fromRow(row);
    },
    /**
     * A page of the events `query` finds, through `SearchReads` (a search may scan).
     * @throws QueryTimeout past the search timeout.
     */
    async list(query: LogQuery, page: { offset: number; limit: number }): Promise<LogEvent[]> {
      const deadline = Date.now() + search.timeoutMs;
      const compiled = filtered(query, deadline)
        .selectAll()
        .orderBy(LOG_SORT_FIELDS[query.sort.field], query.sort.direction)
        .orderBy('log_id', query.sort.direction)
        .limit(page.limit)
        .offset(page.offset)
        .compile();
      return (await search.reads.all(compiled, deadline)).map(fromRow);
    },
    /** @throws QueryTimeout past the search timeout. */
    async count(query: LogQuery): Promise<number> {
      const deadline = Date.now() + search.timeoutMs;
      const compiled = filtered(query, deadline)
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .compile();
      const [row] = await search.reads.all(compiled, deadline);
      return Number(row?.n ?? 0);
    },
    /** Checkpoint reads: the `take` events recorded after `logId`, oldest first. */
    async after(logId: string, take: number): Promise<LogEvent[]> {
      const rows = await db
        .selectFrom('logs')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('log_id', '>', logId)
        .orderBy('log_id', 'asc')
        .limit(take)
        .execute();
      return rows.map(fromRow);
    },
    /** Deletes up to one batch of events older than `at` (epoch ms); returns how many went. */
    async pruneBefore(at: number): Promise<number> {
      const doomed = db
        .selectFrom('logs')
        .select('log_id')
        .where('tenant_id', '=', tenantId)
        .where('at', '<', at)
        .orderBy('at')
        .limit(ROW_DELETE_BATCH);
      const result = await db
        .deleteFrom('logs')
        .where('tenant_id', '=', tenantId)
        .where('log_id', 'in', doomed)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
export type LogRepository = ReturnType<typeof createLogRepository>;

function toRow(tenantId: string, e: LogEvent): LogsTable {
  return {
    tenant_id: tenantId,
    log_id: e.logId,
    at: e.at,
    type: e.type,
    description: e.description ?? null,
    client_id: e.clientId ?? null,
    client_name: e.clientName ?? null,
    connection: e.connection ?? null,
    connection_id: e.connectionId ?? null,
    strategy: e.strategy ?? null,
    strategy_type: e.strategyType ?? null,
    user_id: e.userId ?? null,
    user_name: e.userName ?? null,
    audience: e.audience ?? null,
    scope: e.scope ?? null,
    ip: e.ip ?? null,
    user_agent: e.userAgent ?? null,
    hostname: e.hostname ?? null,
    details: e.details === undefined ? null : toJson(e.details),
  };
}

function fromRow(row: LogsTable): LogEvent {
  const present = <T>(value: T | null): T | undefined => value ?? undefined;
  return {
    logId: row.log_id,
    at: row.at,
    type: row.type as LogType,
    description: present(row.description),
    clientId: present(row.client_id),
    clientName: present(row.client_name),
    connection: present(row.connection),
    connectionId: present(row.connection_id),
    strategy: present(row.strategy),
    strategyType: present(row.strategy_type),
    userId: present(row.user_id),
    userName: present(row.user_name),
    audience: present(row.audience),
    scope: present(row.scope),
    ip: present(row.ip),
    userAgent: present(row.user_agent),
    hostname: present(row.hostname),
    details: row.details === null ? undefined : fromJson<Record<string, unknown>>(row.details),
  };
}
