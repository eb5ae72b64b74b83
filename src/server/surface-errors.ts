import { NotFound } from '../errors/api.js';
import type { AppError } from '../errors/app-error.js';
import { OAuthError } from '../errors/oauth.js';
import { renderApiError } from './render-api-error.js';
import { renderOAuthError } from './render-oauth-error.js';
import { renderPageError, type PageErrorContext } from './render-page-error.js';
import { renderProblemError } from './render-problem-error.js';

export const MANAGEMENT_PREFIX = '/api/v2';
export const MY_ACCOUNT_PREFIX = '/me/v1';
/** The hosted pages: login, sign-up, password reset. */
export const HOSTED_PAGES_PREFIX = '/u';

export interface RenderedSurfaceError {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

export interface Surface {
  /** Paths equal to the prefix or below it belong to the surface; '' matches everything. */
  readonly prefix: string;
  render(err: unknown, context: PageErrorContext): RenderedSurfaceError;
  /** The error for a request no route matched; `allowedMethods` are those the path does answer to. */
  notFound(method: string, path: string, allowedMethods: readonly string[]): AppError;
}

/**
 * Every error the app answers, a surface plugin's or the router's, is rendered by the surface its path belongs
 * to, first match wins.
 */
const SURFACES: readonly Surface[] = [
  {
    prefix: MANAGEMENT_PREFIX,
    render: renderApiError,
    notFound: () => new NotFound('not_found', 'Not Found'),
  },
  {
    prefix: MY_ACCOUNT_PREFIX,
    render: renderProblemError,
    notFound: (method, path) =>
      new NotFound('not_found', `The requested resource ${method} ${path} was not found.`),
  },
  {
    prefix: HOSTED_PAGES_PREFIX,
    render: renderPageError,
    notFound: (_method, _path, allowedMethods) =>
      allowedMethods.length > 0
        ? new OAuthError('invalid_request', 'Method not allowed', 405)
        : new NotFound('not_found', 'Not Found'),
  },
  {
    // The Authentication API: /oauth/*, /userinfo, /.well-known/* and every path no other surface claims.
    prefix: '',
    render: renderOAuthError,
    notFound: (_method, _path, allowedMethods) =>
      // RFC 6749 §5.2 has no "no such endpoint" code; invalid_request is what OAuth clients understand.
      // RFC 9110 §15.5.6: a path that answers other methods is a 405.
      allowedMethods.length > 0
        ? new OAuthError('invalid_request', `Method not allowed; use ${allowedMethods.join(' or ')}`, 405)
        : new OAuthError('invalid_request', 'Not Found', 404),
  },
];

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** The surface a request URL belongs to. */
export function surfaceOf(url: string): Surface {
  const path = pathOf(url);
  for (const surface of SURFACES) {
    const { prefix } = surface;
    if (prefix === '' || path === prefix || (path.startsWith(prefix) && path[prefix.length] === '/')) {
      return surface;
    }
  }
  throw new Error('unreachable: the last surface matches every path');
}

/** Renders any error in the shape of the surface the request's path belongs to. */
export function renderErrorForPath(
  url: string,
  err: unknown,
  context: PageErrorContext,
): RenderedSurfaceError {
  return surfaceOf(url).render(err, context);
}

/** The error for a request no route matched, in its surface's terms. */
export function routeNotFound(method: string, url: string, allowedMethods: readonly string[]): AppError {
  return surfaceOf(url).notFound(method, pathOf(url), allowedMethods);
}
