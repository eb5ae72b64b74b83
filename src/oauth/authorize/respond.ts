import type { ReplyTarget } from './request.js';

/**
 * What an authorization returns: a code, front-channel tokens, or both (RFC 6749 §4.1.2 and §4.2.2, OIDC
 * Core §3.3.2.5); or an error (RFC 6749 §4.1.2.1).
 */
export interface AuthorizeSuccess {
  readonly code?: string;
  readonly access_token?: string;
  readonly scope?: string;
  readonly expires_in?: number;
  readonly token_type?: string;
  readonly id_token?: string;
}
export interface AuthorizeFailure {
  readonly error: string;
  readonly error_description: string;
}
export type AuthorizeResult = AuthorizeSuccess | AuthorizeFailure;

/** The success parameters in the order they are sent. */
const SUCCESS_FIELDS = ['code', 'access_token', 'scope', 'expires_in', 'token_type', 'id_token'] as const;

/** The response parameters in order, `state` last and byte for byte as it came. */
export function responseParams(target: ReplyTarget, result: AuthorizeResult): [string, string][] {
  const params: [string, string][] = [];
  if ('error' in result) {
    params.push(['error', result.error], ['error_description', result.error_description]);
  } else {
    for (const field of SUCCESS_FIELDS) {
      const value = result[field];
      if (value !== undefined) params.push([field, String(value)]);
    }
  }
  if (target.state !== undefined) params.push(['state', target.state]);
  return params;
}

/** response_mode=query: the parameters added to the redirect URI's own query (RFC 6749 §3.1.2). */
export function queryLocation(target: ReplyTarget, result: AuthorizeResult): string {
  const url = new URL(target.redirectUri);
  for (const [name, value] of responseParams(target, result)) url.searchParams.append(name, value);
  return url.href;
}

/**
 * response_mode=fragment: the parameters form-encoded in the fragment (RFC 6749 §4.2.2), replacing any the
 * redirect URI had (a registered callback has none that a client could rely on).
 */
export function fragmentLocation(target: ReplyTarget, result: AuthorizeResult): string {
  const url = new URL(target.redirectUri);
  url.hash = new URLSearchParams(responseParams(target, result)).toString();
  return url.href;
}

/**
 * The CSP `form-action` source that lets a page's form reach the redirect URI: by a form_post, or by the 302
 * that answers the login form (browsers apply form-action to a form's redirects too). A native app's custom
 * scheme has no origin (`null`): its scheme is the source.
 */
export function formActionSource(redirectUri: string): string {
  const url = new URL(redirectUri);
  return url.origin === 'null' ? url.protocol : url.origin;
}
