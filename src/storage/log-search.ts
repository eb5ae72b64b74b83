import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import { invalidQuery, type SearchNode } from '../users/search-query.js';
import { escapeLike } from './user-search.js';
import type { Database } from './schema.js';

type Eb = ExpressionBuilder<Database, 'logs'>;
type Cond = Expression<SqlBool>;

/** Auth0's searchable log fields that Latchkey stores, by their column. */
const TEXT_FIELDS = new Set([
  'log_id',
  'type',
  'description',
  'client_id',
  'client_name',
  'connection',
  'connection_id',
  'strategy',
  'strategy_type',
  'user_id',
  'user_name',
  'audience',
  'scope',
  'ip',
  'user_agent',
  'hostname',
]);
/** A term without a field looks in these. */
const FREE_TEXT = ['type', 'description', 'user_id', 'user_name', 'client_id', 'client_name'] as const;

function column(field: string): string {
  if (!TEXT_FIELDS.has(field)) throw invalidQuery(`unknown field ${field}`);
  return field;
}

function like(col: string, pattern: string): Cond {
  return sql<SqlBool>`lower(${sql.ref(col)}) like ${pattern.toLowerCase()} escape '\\'`;
}

/**
 * Compiles a parsed log search (Auth0's log search syntax: `type:s`, `user_id:"auth0|…"`,
 * `date:[2026-01-01 TO *]`, `client_name:acme*`) into a WHERE condition for either engine.
 * @throws BadRequest invalid_query_string for fields or operations it does not support.
 */
export function compileLogSearch(node: SearchNode, eb: Eb): Cond {
  switch (node.kind) {
    case 'and':
      return eb.and(node.children.map((c) => compileLogSearch(c, eb)));
    case 'or':
      return eb.or(node.children.map((c) => compileLogSearch(c, eb)));
    case 'not':
      return eb.not(compileLogSearch(node.child, eb));
    case 'exists':
      if (node.field === 'date') return sql<SqlBool>`1 = 1`;
      return eb(sql.ref(column(node.field)), 'is not', null);
    case 'range':
      return dateRange(node, eb);
    case 'prefix':
      return matchAny(node.field, (col) => like(col, `${escapeLike(node.prefix)}%`), eb);
    case 'suffix':
      return matchAny(node.field, (col) => like(col, `%${escapeLike(node.suffix)}`), eb);
    case 'term':
      if (node.field === 'date') return dateRange(dayOf(node.value), eb);
      return matchAny(node.field, (col) => eb(sql.ref(col), '=', node.value), eb);
  }
}

function matchAny(field: string | undefined, match: (col: string) => Cond, eb: Eb): Cond {
  if (field === undefined) return eb.or(FREE_TEXT.map(match));
  return match(column(field));
}

function dayOf(value: string): Extract<SearchNode, { kind: 'range' }> {
  const start = instant(value, 'date');
  return {
    kind: 'range',
    field: 'date',
    from: new Date(start).toISOString(),
    to: new Date(start + 86_400_000).toISOString(),
    fromInclusive: true,
    toInclusive: false,
  };
}

function dateRange(node: Extract<SearchNode, { kind: 'range' }>, eb: Eb): Cond {
  if (node.field !== 'date') throw invalidQuery(`ranges are only available on date, not ${node.field}`);
  const parts: Cond[] = [];
  if (node.from !== undefined)
    parts.push(eb('at', node.fromInclusive ? '>=' : '>', instant(node.from, 'date')));
  if (node.to !== undefined) parts.push(eb('at', node.toInclusive ? '<=' : '<', instant(node.to, 'date')));
  return parts.length === 0 ? sql<SqlBool>`1 = 1` : eb.and(parts);
}

function instant(value: string, field: string): number {
  const at = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(at)) throw invalidQuery(`${field} takes an ISO 8601 date, got ${value}`);
  return at;
}
