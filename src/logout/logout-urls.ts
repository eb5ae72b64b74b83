import type { Client } from '../domain/client.js';

/** Schemes that run code or carry content in the browser instead of navigating somewhere. */
const SCRIPT_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:']);

/** One DNS label: what Auth0's `*.` subdomain wildcard stands for. */
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;

/** The client's `allowed_logout_urls`, as stored from the Management API. */
export function logoutUrlsOf(settings: Readonly<Record<string, unknown>>): string[] {
  const urls = settings['allowed_logout_urls'];
  return Array.isArray(urls) ? urls.filter((u): u is string => typeof u === 'string') : [];
}

export function clientLogoutUrls(client: Client): string[] {
  return logoutUrlsOf(client.settings);
}

/**
 * Whether `url` may be redirected to after logout, by Auth0's rules for Allowed Logout URLs: it equals an entry
 * character for character (no case folding, no trailing-slash leniency); or an entry `scheme://*.rest` where
 * `*` stands for one subdomain label; or an entry that names query parameters without values
 * (`https://app/logout?lang`), which admits that URL with those parameters, whatever their values. Script
 * schemes never pass.
 */
export function logoutUrlAllowed(url: string, allowed: readonly string[]): boolean {
  const parsed = URL.parse(url);
  if (!parsed || SCRIPT_SCHEMES.has(parsed.protocol)) return false;
  return allowed.some((entry) => entry === url || withoutQueryValues(entry, url));
}

/** Base (exact or wildcard) then the same parameter names, when the entry gives names only. */
function withoutQueryValues(entry: string, url: string): boolean {
  // A URL with a fragment is matched exactly only.
  if (entry.includes('#') || url.includes('#')) return false;
  const [entryBase, entryQuery] = splitQuery(entry);
  const [urlBase, urlQuery] = splitQuery(url);
  if (entryBase !== urlBase && !wildcardMatches(entryBase, urlBase)) return false;
  if (entryQuery === undefined || urlQuery === undefined) return entryQuery === urlQuery;
  const names = entryQuery.split('&');
  if (names.some((n) => n === '' || n.includes('='))) return false;
  const sent = urlQuery.split('&').map((pair) => pair.split('=', 1)[0] ?? '');
  return names.length === sent.length && [...names].sort().join('&') === [...sent].sort().join('&');
}

/** `[before '?', after '?']`. */
function splitQuery(url: string): [string, string | undefined] {
  const q = url.indexOf('?');
  return q < 0 ? [url, undefined] : [url.slice(0, q), url.slice(q + 1)];
}

function wildcardMatches(entry: string, url: string): boolean {
  const star = entry.indexOf('://*.');
  if (star < 0) return false;
  const prefix = entry.slice(0, star + 3);
  const suffix = entry.slice(star + 4);
  if (!url.startsWith(prefix) || !url.endsWith(suffix) || url.length <= prefix.length + suffix.length)
    return false;
  return LABEL.test(url.slice(prefix.length, url.length - suffix.length));
}

/** `state` added to the logout URL's query, before any fragment, leaving the registered URL as it is. */
export function withState(url: string, state: string): string {
  const hash = url.indexOf('#');
  const base = hash < 0 ? url : url.slice(0, hash);
  const fragment = hash < 0 ? '' : url.slice(hash);
  const sep = base.includes('?') ? (base.endsWith('?') || base.endsWith('&') ? '' : '&') : '?';
  return `${base}${sep}state=${encodeURIComponent(state)}${fragment}`;
}
