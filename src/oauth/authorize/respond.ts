import type { ReplyTarget } from './request.js';

/** What goes back to the client: a code, or an error (RFC 6749 §4.1.2 and §4.1.2.1), with the request's state. */
export type AuthorizeResult =
  { readonly code: string } | { readonly error: string; readonly error_description: string };

/** The response parameters in order, `state` last and byte for byte as it came. */
export function responseParams(target: ReplyTarget, result: AuthorizeResult): [string, string][] {
  const params: [string, string][] =
    'code' in result
      ? [['code', result.code]]
      : [
          ['error', result.error],
          ['error_description', result.error_description],
        ];
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
 * The CSP `form-action` source that lets a page's form reach the redirect URI: by a form_post, or by the 302
 * that answers the login form (browsers apply form-action to a form's redirects too). A native app's custom
 * scheme has no origin (`null`): its scheme is the source.
 */
export function formActionSource(redirectUri: string): string {
  const url = new URL(redirectUri);
  return url.origin === 'null' ? url.protocol : url.origin;
}
