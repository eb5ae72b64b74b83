import { BadRequest } from '../errors/api.js';

/** Schemes that run code or carry content in the browser instead of navigating somewhere. */
const SCRIPT_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:']);

const refuse = (field: string, why: string) =>
  new BadRequest('invalid_body', `Payload validation error: ${why} on property ${field}.`);

/**
 * Redirect-style URL lists (callbacks, logout URLs, origins): each must parse, a `*.` subdomain wildcard
 * included, and none may use a script scheme. Custom schemes (com.example.app://callback) stay allowed
 * for native apps, as on Auth0.
 */
export function assertUrlList(field: string, urls: readonly string[] | undefined): void {
  for (const url of urls ?? []) {
    const parsed = URL.parse(url.replace('*.', 'wildcard.'));
    if (!parsed) throw refuse(field, `'${url}' is not a valid URL`);
    if (SCRIPT_SCHEMES.has(parsed.protocol)) throw refuse(field, `'${parsed.protocol} URLs are not allowed'`);
  }
}

/** A page or image shown to people (support page, logo): an absolute http(s) URL. */
export function assertWebUrl(field: string, url: string | null | undefined): void {
  if (url === undefined || url === null) return;
  const parsed = URL.parse(url);
  if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
    throw refuse(field, `'${url}' is not an http(s) URL`);
  }
}
