/**
 * Which browser origins may read the Authentication API's answers (CORS), as Auth0 decides it from an
 * application's settings: `web_origins` (Allowed Web Origins), `allowed_origins` (Allowed Origins (CORS)) and
 * the origins of `callbacks` ("If you have not already added it to the Allowed Callback URLs for your
 * application, you will need to add it to the list of Allowed Origins (CORS)", Auth0's "Configure
 * Cross-Origin Resource Sharing"). Pure: no Fastify, no storage.
 */

/** The client settings that list origins, in the order Auth0's dashboard shows them. */
export const ORIGIN_FIELDS = ['web_origins', 'allowed_origins', 'callbacks'] as const;

/**
 * The serialised origin (`scheme://host[:port]`, lower-case, default port dropped: the URL standard's
 * serialisation, which browsers send) of an `Origin` header, or undefined for anything that is not an http(s)
 * origin: `null` (sandboxed frames, file: pages, redirects across origins) is never an application's origin,
 * and a value with a path, query, fragment or credentials is not an origin at all.
 */
export function normalizeOrigin(value: string | undefined): string | undefined {
  if (value === undefined || value === 'null' || value.length > 2048) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') return undefined;
  if (url.pathname !== '/') return undefined;
  return url.origin;
}

/**
 * One allowed-origin entry: an exact origin, or Auth0's subdomain placeholder. Auth0's rules
 * ("Subdomain URL Placeholders"): http(s) only; one `*`, in the left-most label of a host with at least two
 * labels after it; the label may carry a prefix and suffix (`https://pre-*-post.example.com`); the `*`
 * stands for part of one label, never for several (`https://*.example.com` does not match
 * `https://a.b.example.com`, nor `https://example.com`).
 */
export type OriginPattern =
  | { readonly kind: 'exact'; readonly origin: string }
  | {
      readonly kind: 'wildcard';
      readonly scheme: string;
      readonly port: string;
      readonly labelPrefix: string;
      readonly labelSuffix: string;
      /** The labels after the wildcard one, joined with dots (`example.com`). */
      readonly parent: string;
    };

const LABEL_PART = /^[a-z0-9-]*$/;

/** The pattern an entry of an origin list stands for; paths, queries and fragments are ignored as Auth0 does. */
export function parseOriginPattern(entry: string): OriginPattern | undefined {
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username !== '' || url.password !== '') return undefined;
  if (!url.hostname.includes('*')) return { kind: 'exact', origin: url.origin };
  const labels = url.hostname.split('.');
  const [first = '', ...rest] = labels;
  const star = first.indexOf('*');
  const labelPrefix = first.slice(0, star);
  const labelSuffix = first.slice(star + 1);
  const valid =
    rest.length >= 2 &&
    !rest.some((label) => label === '' || label.includes('*')) &&
    !labelSuffix.includes('*') &&
    LABEL_PART.test(labelPrefix) &&
    LABEL_PART.test(labelSuffix);
  if (!valid) return undefined;
  return {
    kind: 'wildcard',
    scheme: url.protocol,
    port: url.port,
    labelPrefix,
    labelSuffix,
    parent: rest.join('.'),
  };
}

/** The origin patterns one application's settings allow. */
export function clientOriginPatterns(settings: Readonly<Record<string, unknown>>): OriginPattern[] {
  return patternsOf(settings, ORIGIN_FIELDS);
}

/**
 * The application's Allowed Web Origins alone: the origins a web_message answer may be posted to (Auth0
 * checks this list, not the CORS one, for silent authentication).
 */
export function webOriginPatterns(settings: Readonly<Record<string, unknown>>): OriginPattern[] {
  return patternsOf(settings, ['web_origins']);
}

function patternsOf(settings: Readonly<Record<string, unknown>>, fields: readonly string[]): OriginPattern[] {
  const out: OriginPattern[] = [];
  for (const field of fields) {
    const list = settings[field];
    if (!Array.isArray(list)) continue;
    for (const entry of list) {
      const pattern = typeof entry === 'string' ? parseOriginPattern(entry.trim()) : undefined;
      if (pattern) out.push(pattern);
    }
  }
  return out;
}

/** Whether `origin` (already normalised by `normalizeOrigin`) is one the patterns allow. */
export function originAllowed(origin: string, patterns: readonly OriginPattern[]): boolean {
  let url: URL | undefined;
  for (const pattern of patterns) {
    if (pattern.kind === 'exact') {
      if (pattern.origin === origin) return true;
      continue;
    }
    url ??= new URL(origin);
    if (url.protocol !== pattern.scheme || url.port !== pattern.port) continue;
    const host = url.hostname;
    if (!host.endsWith(`.${pattern.parent}`)) continue;
    const label = host.slice(0, host.length - pattern.parent.length - 1);
    if (label.includes('.') || !LABEL_PART.test(label)) continue;
    const { labelPrefix, labelSuffix } = pattern;
    if (label.length <= labelPrefix.length + labelSuffix.length) continue;
    if (label.startsWith(labelPrefix) && label.endsWith(labelSuffix)) return true;
  }
  return false;
}
