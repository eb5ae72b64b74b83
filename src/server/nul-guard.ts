import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { BadRequest } from '../errors/api.js';

/** Objects and arrays nested deeper than this are refused; no Auth0 payload comes close. */
const MAX_INPUT_DEPTH = 32;

type Defect = 'unstorable_text' | 'too_deep';

/** `depth` counts the objects and arrays that enclose `value`. */
function findDefect(value: unknown, depth: number): Defect | undefined {
  // Lone surrogates cannot be stored as UTF-8 exactly either.
  if (typeof value === 'string') {
    return value.includes('\u0000') || !value.isWellFormed() ? 'unstorable_text' : undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  if (depth >= MAX_INPUT_DEPTH) return 'too_deep';
  if (Array.isArray(value)) {
    for (const child of value as unknown[]) {
      const defect = findDefect(child, depth + 1);
      if (defect) return defect;
    }
    return undefined;
  }
  // Keys are text too; a plain loop keeps the common case (a few string params) free of allocations.
  for (const key of Object.keys(value)) {
    const defect =
      findDefect(key, depth + 1) ?? findDefect((value as Record<string, unknown>)[key], depth + 1);
    if (defect) return defect;
  }
  return undefined;
}

const PARTS = [
  { part: 'params', code: 'invalid_uri', label: 'Path' },
  { part: 'query', code: 'invalid_query_string', label: 'Query' },
  { part: 'body', code: 'invalid_body', label: 'Payload' },
] as const;

const DEFECT_MESSAGE: Record<Defect, string> = {
  unstorable_text: 'NUL characters and lone surrogates are not allowed.',
  too_deep: `objects and arrays may not be nested more than ${String(MAX_INPUT_DEPTH)} levels deep.`,
};

/**
 * preValidation hook: NUL (and text that is not well-formed Unicode) cannot be stored exactly by
 * PostgreSQL, and input nested without bound overflows the stack when it is serialised, so both are
 * refused everywhere with a 400 instead of failing deep in a query. Every other control character is
 * kept exactly.
 */
export function refuseUnstorableInput(
  req: FastifyRequest,
  _reply: FastifyReply,
  done: HookHandlerDoneFunction,
): void {
  for (const { part, code, label } of PARTS) {
    const defect = findDefect(req[part], 0);
    if (defect) {
      done(new BadRequest(code, `${label} validation error: ${DEFECT_MESSAGE[defect]}`));
      return;
    }
  }
  done();
}
