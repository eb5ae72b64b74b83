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

/** Calls whose generic wording would read badly, in Auth0's words where it has them. */
const WORDING: Readonly<Record<string, string>> = {
  'POST /clients/:id/rotate-secret': 'Rotate a client secret',
  'POST /keys/signing/rotate': 'Rotate the Application Signing Key',
  'PUT /keys/signing/:kid/revoke': 'Revoke an Application Signing Key',
  'PATCH /tenants/settings': 'Update tenant settings',
  'POST /users/:id/roles': 'Assign roles to a user',
  'DELETE /users/:id/roles': 'Remove roles from a user',
  'POST /users/:id/permissions': 'Assign permissions to a user',
  'DELETE /users/:id/permissions': 'Remove permissions from a user',
  'POST /roles/:id/users': 'Assign users to a role',
  'POST /roles/:id/permissions': 'Add permissions to a role',
  'DELETE /roles/:id/permissions': 'Remove permissions from a role',
  'PATCH /connections/:id/clients': 'Update the enabled clients of a connection',
  'DELETE /user-blocks': 'Unblock a user by identifier',
  'DELETE /user-blocks/:id': 'Unblock a user',
  'DELETE /grants': 'Delete the grants of a user',
};

/** Auth0-like wording: "Create a client", "Delete a user", "Delete refresh tokens of a user". */
export function describe(method: string, route: string): string {
  const known = WORDING[`${method} ${route}`];
  if (known !== undefined) return known;
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
