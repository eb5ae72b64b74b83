import { NotFound } from '../errors/api.js';
import type { AppError } from '../errors/app-error.js';
import { OAuthError } from '../errors/oauth.js';
import { renderApiError, type RenderedError } from './render-api-error.js';
import { renderOAuthError, type RenderedOAuthError } from './render-oauth-error.js';

export const MANAGEMENT_PREFIX = '/api/v2';

/** True for `/api/v2` and everything below it; every other path belongs to the OAuth surface. */
export function isManagementPath(url: string): boolean {
  const path = url.split('?', 1)[0] ?? '';
  return path === MANAGEMENT_PREFIX || path.startsWith(`${MANAGEMENT_PREFIX}/`);
}

/**
 * Renders an error raised before any surface plugin took the request (a malformed or over-long URL, an
 * unknown route) in the shape of the surface the path belongs to.
 */
export function renderErrorForPath(url: string, err: unknown): RenderedError | RenderedOAuthError {
  return isManagementPath(url) ? renderApiError(err) : renderOAuthError(err);
}

/**
 * The error for a request no route matched. `allowedMethods` lists the methods the path does answer to:
 * RFC 9110 §15.5.6 makes that a 405 rather than a 404.
 */
export function routeNotFound(url: string, allowedMethods: readonly string[]): AppError {
  if (isManagementPath(url)) return new NotFound('not_found', 'Not Found');
  // RFC 6749 §5.2 has no "no such endpoint" code; invalid_request is what OAuth clients understand.
  if (allowedMethods.length > 0) {
    return new OAuthError('invalid_request', `Method not allowed; use ${allowedMethods.join(' or ')}`, 405);
  }
  return new OAuthError('invalid_request', 'Not Found', 404);
}
