import type { Compilable, CompiledQuery, QueryResult } from 'kysely';
import type { DbOrTx } from './db.js';

/** Where a compiled query's parameter comes from: the n-th argument of the call, or a value fixed at build time. */
type Source = { readonly arg: number } | { readonly value: unknown };

interface Compiled<Row> {
  readonly query: CompiledQuery<Row>;
  readonly sources: readonly Source[];
}

/**
 * Compiled queries kept for the repositories of one store, whose transactions build their repositories afresh:
 * the same query compiled once serves the store and each of its transactions. Keys name a query of one store
 * (tenant and dialect fixed), so what a build captures from its repository is the same for every one of them.
 */
export type CompiledQueries = Map<string, Compiled<unknown>>;

/** Stand-ins for the arguments while the query is built; strings no caller would pass as a value. */
const standIn = (n: number) => `\u0000precompiled-argument-${String(n)}\u0000`;

/**
 * A query built with Kysely and compiled once, then run with each call's values. On the hottest paths (the
 * one-time store behind every sign-in, code and DPoP proof) building and compiling the query cost more main-thread
 * time than SQLite spent running it. `build` receives stand-ins for the call's arguments and may use them only as
 * bound values (in `where`, `values`, `set`), never as identifiers or in raw SQL: compilation must put each one in
 * the parameter list, which is checked on the first call.
 */
export function precompiled<Args extends readonly unknown[], Row>(
  db: DbOrTx,
  arity: Args['length'],
  build: (...args: Args) => Compilable<Row>,
  shared?: { readonly cache: CompiledQueries; readonly key: string },
): (...args: Args) => Promise<QueryResult<Row>> {
  let compiled: Compiled<Row> | undefined;
  const compile = (): Compiled<Row> => {
    const standIns = Array.from({ length: arity }, (_, n) => standIn(n));
    const query = build(...(standIns as unknown as Args)).compile();
    const sources = query.parameters.map((value): Source => {
      const arg = typeof value === 'string' ? standIns.indexOf(value) : -1;
      return arg === -1 ? { value } : { arg };
    });
    const used = new Set(sources.flatMap((s) => ('arg' in s ? [s.arg] : [])));
    if (used.size !== arity || query.sql.includes('\u0000')) {
      throw new Error('precompiled: every argument must be a bound parameter of the query');
    }
    const made = { query, sources };
    shared?.cache.set(shared.key, made);
    return made;
  };
  return (...args) => {
    compiled ??= shared?.cache.get(shared.key) ?? compile();
    const { query, sources } = compiled;
    return db.executeQuery<Row>({
      ...query,
      parameters: sources.map((s) => ('arg' in s ? args[s.arg] : s.value)),
    });
  };
}
