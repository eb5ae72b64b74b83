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
 * Whether `url` may be redirected to after logout: it equals one of `allowed` character for character (no
 * case folding, no trailing-slash leniency), or matches an entry of the form `scheme://*.rest` where `*`
 * stands for one subdomain label, as Auth0 documents for its Allowed Logout URLs. Script schemes never pass.
 */
export function logoutUrlAllowed(url: string, allowed: readonly string[]): boolean {
  const parsed = URL.parse(url);
  if (!parsed || SCRIPT_SCHEMES.has(parsed.protocol)) return false;
  return allowed.some((entry) => entry === url || wildcardMatches(entry, url));
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
