import type { FastifyRequest } from 'fastify';
import { BadRequest } from '../errors/api.js';

function hasNul(value: unknown, depth = 0): boolean {
  if (depth > 64) return false;
  // Lone surrogates cannot be stored as UTF-8 exactly either.
  if (typeof value === 'string') return value.includes('\u0000') || !value.isWellFormed();
  if (Array.isArray(value)) return value.some((v) => hasNul(v, depth + 1));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).some(([k, v]) => hasNul(k, depth + 1) || hasNul(v, depth + 1));
  }
  return false;
}

/**
 * preValidation hook: NUL (and text that is not well-formed Unicode) cannot be stored exactly by
 * PostgreSQL, so it is refused everywhere with a 400 instead of failing deep in a query. Every other
 * control character is kept exactly.
 */
export async function refuseNul(req: FastifyRequest): Promise<void> {
  if (hasNul(req.params))
    throw new BadRequest(
      'invalid_uri',
      'Path validation error: NUL characters and lone surrogates are not allowed.',
    );
  if (hasNul(req.query))
    throw new BadRequest(
      'invalid_query_string',
      'Query validation error: NUL characters and lone surrogates are not allowed.',
    );
  if (hasNul(req.body))
    throw new BadRequest(
      'invalid_body',
      'Payload validation error: NUL characters and lone surrogates are not allowed.',
    );
  await Promise.resolve();
}
