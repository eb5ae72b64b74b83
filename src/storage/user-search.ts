import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { DialectName } from './db.js';
import type { Database } from './schema.js';
import { invalidQuery, type SearchNode } from '../users/search-query.js';

type Eb = ExpressionBuilder<Database, 'users'>;
type Cond = Expression<SqlBool>;

/** Case-insensitive fields (Auth0's normalized fields) and their stored lower-case column. */
const NORMALIZED: Record<string, 'email_norm' | 'name_norm' | 'username_norm'> = {
  email: 'email_norm',
  name: 'name_norm',
  username: 'username_norm',
};
const CASELESS_TEXT = new Set(['given_name', 'family_name', 'nickname']);
const EXACT_TEXT = new Set(['user_id', 'phone_number', 'last_ip', 'picture']);
const BOOLEANS = new Set(['email_verified', 'phone_verified', 'blocked']);
const DATES = new Set(['created_at', 'updated_at', 'last_login']);
const IDENTITY_FIELDS = new Set([
  'connection',
  'identities.connection',
  'identities.provider',
  'identities.user_id',
]);
const FREE_TEXT = ['email_norm', 'name_norm', 'username_norm'] as const;

/** Escapes LIKE wildcards; every LIKE here names `\\` as its escape character. */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

// SQLite has no default LIKE escape character; name it for both engines.
function like(column: Expression<unknown> | string, pattern: string): Cond {
  const ref = typeof column === 'string' ? sql.ref(column) : column;
  return sql<SqlBool>`${ref} like ${pattern} escape '\\'`;
}

/**
 * Compiles a parsed user search into a WHERE condition for either engine.
 * @throws BadRequest for fields or operations the search does not support.
 */
export function compileUserSearch(node: SearchNode, eb: Eb, dialect: DialectName, tenantId: string): Cond {
  switch (node.kind) {
    case 'and':
      return eb.and(node.children.map((c) => compileUserSearch(c, eb, dialect, tenantId)));
    case 'or':
      return eb.or(node.children.map((c) => compileUserSearch(c, eb, dialect, tenantId)));
    case 'not':
      return eb.not(compileUserSearch(node.child, eb, dialect, tenantId));
    case 'exists':
      return exists(node.field, eb, dialect);
    case 'range':
      return range(node, eb);
    case 'prefix':
      return wildcard(node.field, node.prefix, 'prefix', eb);
    case 'suffix':
      return wildcard(node.field, node.suffix, 'suffix', eb);
    case 'term':
      return term(node.field, node.value, node.phrase, eb, dialect, tenantId);
  }
}

function term(
  field: string | undefined,
  value: string,
  phrase: boolean,
  eb: Eb,
  dialect: DialectName,
  tenantId: string,
): Cond {
  if (field === undefined) {
    return eb.or(FREE_TEXT.map((col) => textMatch(sql.ref(col), value.toLowerCase(), phrase, eb)));
  }
  const normalized = NORMALIZED[field];
  if (normalized) {
    if (field === 'email') return emailIs(eb, value.toLowerCase(), tenantId);
    return textMatch(sql.ref(normalized), value.toLowerCase(), phrase, eb);
  }
  if (CASELESS_TEXT.has(field))
    return textMatch(sql`lower(${sql.ref(field)})`, value.toLowerCase(), phrase, eb);
  if (field === 'email.domain') return like('email_norm', `%@${escapeLike(value.toLowerCase())}`);
  if (EXACT_TEXT.has(field)) return eb(sql.ref(field), '=', value);
  if (BOOLEANS.has(field)) {
    if (value !== 'true' && value !== 'false') throw invalidQuery(`${field} is true or false`);
    return eb(sql.ref(field), '=', value === 'true' ? 1 : 0);
  }
  if (field === 'logins_count') return eb('logins_count', '=', integer(value, field));
  if (DATES.has(field)) return like(sql.ref(field), `${escapeLike(datePrefix(value))}%`);
  if (field === 'connection' || field === 'identities.connection')
    return hasIdentity(eb, (i) => i('identities.connection', '=', value));
  if (field === 'identities.provider') return hasIdentity(eb, (i) => i('identities.provider', '=', value));
  if (field === 'identities.user_id')
    return hasIdentity(eb, (i) => i('identities.identity_user_id', '=', value));
  const meta = metadataPath(field);
  if (meta) return metadataEquals(meta.column, meta.path, value, eb, dialect);
  throw invalidQuery(`unknown field ${field}`);
}

/**
 * The user's own email, or the email of an account linked to it (a linked identity keeps its login email, and
 * finds its primary). One IN list of ids, each half answered by a (tenant_id, email_norm) index.
 */
function emailIs(eb: Eb, norm: string, tenantId: string): Cond {
  const own = eb
    .selectFrom('users as own')
    .select('own.user_id')
    .where('own.tenant_id', '=', tenantId)
    .where('own.email_norm', '=', norm);
  const linked = eb
    .selectFrom('identities')
    .select('identities.user_id')
    .where('identities.tenant_id', '=', tenantId)
    .where('identities.email_norm', '=', norm);
  return eb('users.user_id', 'in', own.unionAll(linked));
}

// Identity fields match when any of the user's identities (its own or a linked one) matches.
function hasIdentity(eb: Eb, where: (i: ExpressionBuilder<Database, 'identities'>) => Cond): Cond {
  return eb.exists(
    eb
      .selectFrom('identities')
      .select(sql.lit(1).as('one'))
      .whereRef('identities.tenant_id', '=', 'users.tenant_id')
      .whereRef('identities.user_id', '=', 'users.user_id')
      .where(where),
  );
}

// A word matches a whole word inside the text; a phrase matches the whole value.
function textMatch(column: Expression<unknown>, value: string, phrase: boolean, eb: Eb): Cond {
  if (phrase) return eb(column, '=', value);
  return like(sql`' ' || ${column} || ' '`, `% ${escapeLike(value)} %`);
}

function wildcard(field: string | undefined, literal: string, at: 'prefix' | 'suffix', eb: Eb): Cond {
  const patternOf = (text: string) => (at === 'prefix' ? `${escapeLike(text)}%` : `%${escapeLike(text)}`);
  const pattern = patternOf(literal.toLowerCase());
  if (field === undefined) return eb.or(FREE_TEXT.map((col) => like(col, pattern)));
  const normalized = NORMALIZED[field];
  if (normalized) return like(normalized, pattern);
  if (CASELESS_TEXT.has(field)) return like(sql`lower(${sql.ref(field)})`, pattern);
  if (EXACT_TEXT.has(field)) return like(sql.ref(field), patternOf(literal));
  if (field === 'connection' || field === 'identities.connection') {
    return hasIdentity(eb, () => like('identities.connection', patternOf(literal)));
  }
  if (metadataPath(field)) throw invalidQuery('wildcards are not available on metadata fields');
  throw invalidQuery(`wildcards are not available on ${field}`);
}

function range(node: Extract<SearchNode, { kind: 'range' }>, eb: Eb): Cond {
  const parts: Cond[] = [];
  if (node.field === 'logins_count') {
    if (node.from !== undefined)
      parts.push(eb('logins_count', node.fromInclusive ? '>=' : '>', integer(node.from, node.field)));
    if (node.to !== undefined)
      parts.push(eb('logins_count', node.toInclusive ? '<=' : '<', integer(node.to, node.field)));
  } else if (DATES.has(node.field)) {
    const col = sql.ref(node.field);
    // A date-only bound covers the whole day: '~' sorts after every character of an ISO timestamp.
    const widen = (v: string) => (/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}~` : v);
    if (node.from !== undefined) {
      const from = date(node.from);
      parts.push(node.fromInclusive ? eb(col, '>=', from) : eb(col, '>', widen(from)));
    }
    if (node.to !== undefined) {
      const to = date(node.to);
      parts.push(node.toInclusive ? eb(col, '<=', widen(to)) : eb(col, '<', to));
    }
    parts.push(eb(col, 'is not', null));
  } else if (metadataPath(node.field)) {
    throw invalidQuery('ranges are not available on metadata fields');
  } else {
    throw invalidQuery(`ranges are not available on ${node.field}`);
  }
  return eb.and(parts);
}

function exists(field: string, eb: Eb, dialect: DialectName): Cond {
  const normalized = NORMALIZED[field];
  if (normalized) return eb(normalized, 'is not', null);
  if (CASELESS_TEXT.has(field) || EXACT_TEXT.has(field) || DATES.has(field))
    return eb(sql.ref(field), 'is not', null);
  // Every user has these (a user always has its own identity).
  if (BOOLEANS.has(field) || IDENTITY_FIELDS.has(field) || field === 'logins_count') return eb.lit(true);
  const meta = metadataPath(field);
  if (meta) return eb(metadataValue(meta.column, meta.path, dialect), 'is not', null);
  throw invalidQuery(`unknown field ${field}`);
}

function metadataPath(
  field: string,
): { column: 'user_metadata' | 'app_metadata'; path: string[] } | undefined {
  const [root, ...path] = field.split('.');
  if ((root !== 'user_metadata' && root !== 'app_metadata') || path.length === 0) return undefined;
  if (path.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) throw invalidQuery(`bad metadata path ${field}`);
  return { column: root, path };
}

function metadataValue(column: string, path: readonly string[], dialect: DialectName): Expression<unknown> {
  if (dialect === 'postgres') return sql`(${sql.ref(column)}::jsonb #>> ${`{${path.join(',')}}`})`;
  return sql`json_extract(${sql.ref(column)}, ${`$.${path.map((p) => `"${p}"`).join('.')}`})`;
}

// JSON scalars compare as text; booleans differ by engine (PG 'true', SQLite 1).
function metadataEquals(
  column: string,
  path: readonly string[],
  value: string,
  eb: Eb,
  dialect: DialectName,
): Cond {
  const extracted = metadataValue(column, path, dialect);
  if (dialect === 'sqlite' && (value === 'true' || value === 'false')) {
    return eb.or([eb(extracted, '=', value === 'true' ? 1 : 0), eb(extracted, '=', value)]);
  }
  if (dialect === 'sqlite') return eb(sql`cast(${extracted} as text)`, '=', value);
  return eb(extracted, '=', value);
}

function integer(value: string, field: string): number {
  if (!/^-?\d{1,15}$/.test(value)) throw invalidQuery(`${field} needs an integer`);
  // Clamp to the column's 32-bit range: PostgreSQL refuses a larger literal instead of comparing it.
  return Math.max(-2_147_483_648, Math.min(2_147_483_647, Number(value)));
}

// A calendar date, optionally with a time; the parts must name a real instant (no 2020-13-45 or 25:00).
const DATE_BOUND = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?Z?)?$/;

/** A year, a year and month, or a whole date bound: the timestamps that start with it match. */
function datePrefix(value: string): string {
  const m = /^\d{4}(?:-(\d{2}))?$/.exec(value);
  if (!m) return date(value);
  const month = Number(m[1] ?? 1);
  if (month < 1 || month > 12) throw invalidQuery(`bad date ${value}`);
  return value;
}

function date(value: string): string {
  const m = DATE_BOUND.exec(value);
  if (!m) throw invalidQuery(`bad date ${value}`);
  const [year, month, day, hour, minute, second] = m
    .slice(1, 7)
    .map((p: string | undefined) => Number(p ?? 0)) as [number, number, number, number, number, number];
  const t = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  const real =
    t.getUTCFullYear() === year &&
    t.getUTCMonth() + 1 === month &&
    t.getUTCDate() === day &&
    t.getUTCHours() === hour &&
    t.getUTCMinutes() === minute &&
    t.getUTCSeconds() === second;
  if (!real) throw invalidQuery(`bad date ${value}`);
  return value;
}
