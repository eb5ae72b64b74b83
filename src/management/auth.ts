import type { FastifyRequest } from 'fastify';
import { BadRequest, Forbidden, Unauthorized, insufficientScope } from '../errors/api.js';
import type { AppError } from '../errors/app-error.js';
import { scopeCheck, type AuthFailure, type ScopeCheck } from '../server/authenticated-request.js';

/**
 * Management API answers to a failed authentication (spec 4.2), each with RFC 6750 §3's challenge: none of an
 * error for a request without credentials, `invalid_request` for a malformed header, `invalid_token` otherwise.
 */
export function managementAuthError(failure: AuthFailure): AppError {
  switch (failure.reason) {
    case 'missing':
      return new Unauthorized('Missing authentication', 'Bearer');
    case 'bad_header':
    case 'malformed':
      return new BadRequest(
        'invalid_body',
        'Bad HTTP authentication header format',
        'Bearer error="invalid_request"',
      );
    case 'invalid':
    case 'expired':
    case 'bad_audience':
      return new Unauthorized(
        failure.message,
        `Bearer error="invalid_token", error_description="${failure.message.replaceAll('"', "'")}"`,
      );
    case 'dpop':
      return new Unauthorized(failure.message, failure.dpop?.challenge ?? 'DPoP error="invalid_token"');
    default: {
      const unknown: never = failure.reason;
      throw new Error(`unknown failure ${String(unknown)}`);
    }
  }
}

/** preHandler: the token must hold any of `scopes` (spec 4.3); throws, never replies itself. */
export function requireScope(...scopes: readonly string[]): ScopeCheck {
  return requireScopeSet(...scopes.map((s) => [s]));
}

/** preHandler: the token must hold every scope of at least one of `sets`. */
export function requireScopeSet(...sets: readonly (readonly string[])[]): ScopeCheck {
  const named = [...new Set(sets.flat())];
  return scopeCheck((req) => {
    const granted = req.auth?.scopes;
    if (!granted || !sets.some((set) => set.every((s) => granted.has(s)))) {
      // Name what the token lacks: adding any one of these scopes (or all of a set's) would admit it.
      throw insufficientScope(named.filter((s) => granted?.has(s) !== true));
    }
  });
}

/**
 * preHandler for endpoints with current-user scopes (seed 003): any-user scopes act on anyone;
 * current-user scopes act only on the token's own subject, given as the `id` path parameter.
 */
export function requireUserScope(anyUser: readonly string[], currentUser: readonly string[]): ScopeCheck {
  return scopeCheck((req: FastifyRequest): void => {
    const auth = req.auth;
    const granted = auth?.scopes;
    if (granted && anyUser.some((s) => granted.has(s))) return;
    if (!auth || !granted || !currentUser.some((s) => granted.has(s)))
      throw insufficientScope([...anyUser, ...currentUser]);
    const id = (req.params as { id?: string }).id;
    if (!auth.isUser || id !== auth.sub) {
      throw new Forbidden(
        'insufficient_scope',
        'User to be acted on does not match subject in bearer token.',
      );
    }
    req.auth = { ...auth, currentUserOnly: true };
  });
}
