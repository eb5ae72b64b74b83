import { Type, type Static, type TArray, type TSchema } from 'typebox';
import { BadRequest } from '../errors/api.js';

const MAX_PER_PAGE = 100;
const DEFAULT_PER_PAGE = 50;

export const PageQuery = {
  page: Type.Optional(Type.Integer({ minimum: 0 })),
  per_page: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PER_PAGE })),
  include_totals: Type.Optional(Type.Boolean()),
};

export const FieldsQuery = {
  fields: Type.Optional(Type.String({ maxLength: 2000 })),
  include_fields: Type.Optional(Type.Boolean()),
};

export const CheckpointQuery = {
  from: Type.Optional(Type.String({ maxLength: 200 })),
  take: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PER_PAGE })),
};

export type PageParams = Static<ReturnType<typeof Type.Object<typeof PageQuery>>>;

export function toPage(query: PageParams): { offset: number; limit: number } {
  const limit = query.per_page ?? DEFAULT_PER_PAGE;
  const page = query.page ?? 0;
  if (page * limit > 1_000_000)
    throw new BadRequest('invalid_query_string', 'Query validation error: page is out of range.');
  return { offset: page * limit, limit };
}

/** Offset list body: a bare array, or `{start, limit, total, <key>}` with include_totals. */
export function offsetListBody<T, K extends string>(
  key: K,
  items: T[],
  query: PageParams,
  total: number | undefined,
): T[] | ({ start: number; limit: number; total: number } & Record<K, T[]>) {
  if (query.include_totals !== true) return items;
  const { offset, limit } = toPage(query);
  return { start: offset, limit, total: total ?? items.length, ...({ [key]: items } as Record<K, T[]>) };
}

/** Applies `fields`/`include_fields` to a view (spec 4.1). */
export function selectFields<T extends object>(
  view: T,
  query: { fields?: string | undefined; include_fields?: boolean | undefined },
): Partial<T> {
  if (query.fields === undefined || query.fields === '') return view;
  const names = new Set(
    query.fields
      .split(',')
      .map((f) => f.trim())
      .filter(Boolean),
  );
  const include = query.include_fields !== false;
  return Object.fromEntries(Object.entries(view).filter(([k]) => names.has(k) === include)) as Partial<T>;
}

/** Opaque checkpoint cursor: base64url of the last id seen. */
function encodeCursor(lastId: string): string {
  return Buffer.from(lastId, 'utf8').toString('base64url');
}

/** Ids a checkpoint list pages by (`cgr_…`, `con_…`, `auth0|…` user ids): printable, storable, no spaces. */
function isCursorId(id: string): boolean {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  return id.length > 0 && id.length <= 300 && id.isWellFormed() && !/[\u0000-\u001f\u007f\s]/.test(id);
}

/** @throws BadRequest invalid_query_string unless `from` is a cursor this server could have issued. */
function decodeCursor(from: string): string {
  const id = Buffer.from(from, 'base64url').toString('utf8');
  // A forged cursor may decode to NUL or other bytes PostgreSQL refuses in a text comparison.
  if (!isCursorId(id) || encodeCursor(id) !== from) {
    throw new BadRequest('invalid_query_string', 'Query validation error: from is not a valid checkpoint.');
  }
  return id;
}

interface MixedPaging {
  readonly page?: number | undefined;
  readonly per_page?: number | undefined;
  readonly include_totals?: boolean | undefined;
  readonly from?: string | undefined;
  readonly take?: number | undefined;
}

/**
 * An endpoint that offers both styles pages by checkpoint as soon as `from` or `take` is sent. Auth0 compat:
 * `page`, `per_page` and `include_totals` are then ignored, not refused (Auth0 documents include_totals as
 * "not returned when using checkpoint pagination", and the auth0 v7 SDK always sends include_totals=true
 * with `take`).
 */
export function isCheckpointRequest(q: MixedPaging): boolean {
  return q.from !== undefined || q.take !== undefined;
}

/**
 * Loads one checkpoint page: `load` gets the id to start after and how many rows to read (one extra tells
 * whether a next page exists).
 */
export async function checkpointPage<T extends { id: string }, V, K extends string>(
  key: K,
  q: MixedPaging,
  load: (afterId: string | undefined, limit: number) => Promise<T[]>,
  view: (item: T) => V,
): Promise<Record<K, V[]> & { next?: string }> {
  const take = q.take ?? DEFAULT_PER_PAGE;
  const rows = await load(q.from === undefined ? undefined : decodeCursor(q.from), take + 1);
  const page = rows.slice(0, take);
  const last = page.at(-1);
  return {
    ...({ [key]: page.map(view) } as Record<K, V[]>),
    ...(rows.length > take && last ? { next: encodeCursor(last.id) } : {}),
  };
}

/**
 * Response schema of a list (spec 4.1): a bare array, `{start, limit, total, <key>}` with include_totals
 * (/users adds `length`), and `{<key>, next}` where the route also pages by checkpoint.
 */
export function listView<K extends string, T extends TSchema>(
  key: K,
  item: T,
  shape: { checkpoint?: boolean } = {},
) {
  const items = { [key]: Type.Array(item) } as Record<K, TArray<T>>;
  const totals = Type.Object({
    start: Type.Integer(),
    limit: Type.Integer(),
    length: Type.Optional(Type.Integer()),
    total: Type.Integer(),
    ...items,
  });
  const checkpoint = Type.Object({ ...items, next: Type.Optional(Type.String()) });
  return shape.checkpoint === true
    ? Type.Union([Type.Array(item), totals, checkpoint])
    : Type.Union([Type.Array(item), totals]);
}
