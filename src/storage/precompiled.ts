import type { Compilable, CompiledQuery, QueryResult } from 'kysely';
import type { DbOrTx } from './db.js';

/** Where a compiled query's parameter comes from: the n-th argument of the call, or a value fixed at build time. */
type Source = { readonly arg: number } | { readonly value: unknown };

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
): (...args: Args) => Promise<QueryResult<Row>> {
  let compiled: { query: CompiledQuery<Row>; sources: readonly Source[] } | undefined;
  const compile = () => {
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
    return { query, sources };
  };
  return (...args) => {
    compiled ??= compile();
    const { query, sources } = compiled;
    return db.executeQuery<Row>({
      ...query,
      parameters: sources.map((s) => ('arg' in s ? args[s.arg] : s.value)),
    });
  };
}
