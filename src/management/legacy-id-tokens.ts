import type { Deps } from '../server/deps.js';
import type { RequestAuth } from '../server/verified-tokens.js';

/** Auth0's tenant flag behind "Allow ID Tokens for Management API v2 Authentication" (off by default). */
export const ID_TOKEN_FLAG = 'enable_idtoken_api2';

/**
 * What an ID token may do while the flag is on: the current-user scopes of the endpoints seed 003 lists
 * (read and update the user, enrollments, multifactor, device credentials, identities), on its own user only.
 */
const ID_TOKEN_SCOPES: ReadonlySet<string> = new Set([
  'read:current_user',
  'update:current_user_metadata',
  'create:current_user_metadata',
  'delete:current_user_metadata',
  'create:current_user_device_credentials',
  'delete:current_user_device_credentials',
  'update:current_user_identities',
]);

/**
 * Seed 003's legacy behaviour: with the flag on, an ID token of this tenant (RS256, signed by its keys, which
 * the token check has verified, for one of its applications) acts as its user with the current-user scopes.
 * With the flag off, or for any other token, undefined: the token keeps its 401.
 */
export function legacyIdTokens(deps: Deps): (auth: RequestAuth) => Promise<RequestAuth | undefined> {
  return async (auth) => {
    const flags = (await deps.lookups.tenantSettings())['flags'];
    const on =
      typeof flags === 'object' &&
      flags !== null &&
      (flags as Record<string, unknown>)[ID_TOKEN_FLAG] === true;
    const aud = auth.claims.aud;
    if (!on || !auth.isUser || typeof aud !== 'string') return undefined;
    if (!(await deps.lookups.client(aud))) return undefined;
    return { ...auth, clientId: aud, scopes: ID_TOKEN_SCOPES };
  };
}
