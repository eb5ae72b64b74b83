import type { NewLogEvent } from '../domain/log-event.js';
import type { RequestAuth } from '../server/verified-tokens.js';

export interface ManagementCall {
  readonly method: string;
  /** The route's pattern under /api/v2, e.g. `/users/:id`. */
  readonly route: string;
  /** The path called, without the query string. */
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly body: unknown;
  readonly status: number;
  readonly auth: RequestAuth;
  readonly ip: string;
  readonly userAgent: string | undefined;
  readonly hostname: string | undefined;
}

const VERBS: Record<string, string> = { POST: 'Create', PATCH: 'Update', PUT: 'Set', DELETE: 'Delete' };

/** Whether a call of this method changes something (and so is recorded, as Auth0 records `sapi`/`fapi`). */
export function isManagementWrite(method: string): boolean {
  return Object.hasOwn(VERBS, method);
}

/**
 * The events of one Management API write: `sapi` or `fapi`, and `scp` when it set a user's password. The
 * request body is never copied: only which call it was, by whom, and how it ended.
 */
export function managementEvents(call: ManagementCall): NewLogEvent[] {
  const ok = call.status < 400;
  const targetUser = call.route.startsWith('/users/:id') ? call.params['id'] : undefined;
  const base = {
    clientId: call.auth.clientId,
    userId: targetUser,
    ip: call.ip,
    userAgent: call.userAgent,
    hostname: call.hostname,
  };
  const event: NewLogEvent = {
    ...base,
    type: ok ? 'sapi' : 'fapi',
    description: describe(call.method, call.route),
    details: {
      request: {
        method: call.method.toLowerCase(),
        path: `/api/v2${call.path}`,
        auth: {
          ...(call.auth.isUser ? { user: { user_id: call.auth.sub } } : {}),
          ...(call.auth.clientId === undefined ? {} : { client_id: call.auth.clientId }),
          scopes: [...call.auth.scopes].sort(),
        },
      },
      response: { statusCode: call.status },
    },
  };
  const setPassword =
    ok && call.method === 'PATCH' && call.route === '/users/:id' && hasStringField(call.body, 'password');
  if (!setPassword) return [event];
  return [event, { ...base, type: 'scp', description: 'Password changed by an administrator' }];
}

/** Auth0-like wording: "Create a client", "Delete a user", "Create roles of a user". */
export function describe(method: string, route: string): string {
  const verb = VERBS[method] ?? method;
  const segments = route.split('/').filter((s) => s !== '');
  const statics = segments.filter((s) => !s.startsWith(':'));
  const last = statics.at(-1);
  if (last === undefined) return verb;
  const words = (s: string) => s.replace(/[-_]/g, ' ');
  const endsWithParam = segments.at(-1)?.startsWith(':') === true;
  if (endsWithParam || (method === 'POST' && statics.length === 1))
    return `${verb} a ${words(singular(last))}`;
  const owner = statics.at(-2);
  return owner === undefined
    ? `${verb} ${words(last)}`
    : `${verb} ${words(last)} of a ${words(singular(owner))}`;
}

function singular(word: string): string {
  if (word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

function hasStringField(body: unknown, name: string): boolean {
  return (
    typeof body === 'object' && body !== null && typeof (body as Record<string, unknown>)[name] === 'string'
  );
}
