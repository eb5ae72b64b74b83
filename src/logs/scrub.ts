/** Names of fields whose values are credentials: never stored in an event, at any depth. */
const SECRET_NAME =
  /pass(word|wd)?|secret|token|assertion|authori[sz]ation|cookie|verifier|otp|code|key|hash|credential|signature|authn_response/i;

/** Names that look like credentials but are not (an HTTP status, an error code). */
const SAFE_NAMES = new Set(['statusCode', 'errorCode', 'error_code']);

const MAX_DEPTH = 5;
const MAX_STRING = 1_000;
const MAX_ITEMS = 50;

/**
 * A copy of `value` fit to be logged: fields named like credentials dropped, strings and lists cut short, and
 * nesting bounded, so that no caller can put a secret or an unbounded body into a log event.
 */
export function scrubDetails(value: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return scrubObject(value, 0);
}

function scrubObject(value: Readonly<Record<string, unknown>>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, item] of Object.entries(value).slice(0, MAX_ITEMS)) {
    if (SECRET_NAME.test(name) && !SAFE_NAMES.has(name)) continue;
    const clean = scrubValue(item, depth + 1);
    if (clean !== undefined) out[name] = clean;
  }
  return out;
}

function scrubValue(value: unknown, depth: number): unknown {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string') return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  if (depth > MAX_DEPTH) return undefined;
  if (Array.isArray(value)) return value.slice(0, MAX_ITEMS).map((item) => scrubValue(item, depth + 1));
  if (typeof value === 'object') return scrubObject(value as Record<string, unknown>, depth);
  return undefined;
}

/** Caller-controlled strings (user agent, host, login name) are cut to this many characters. */
const MAX_FIELD = 600;

/** The event with every string field cut short and its details scrubbed. */
export function scrubEvent<E extends { readonly details?: Readonly<Record<string, unknown>> | undefined }>(
  event: E,
): E {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(event) as [string, unknown][]) {
    if (value === undefined) continue;
    if (typeof value === 'string')
      out[name] = value.length > MAX_FIELD ? `${value.slice(0, MAX_FIELD)}…` : value;
    else if (name === 'details') out[name] = scrubDetails(value as Record<string, unknown>);
    else out[name] = value;
  }
  return out as E;
}
