import { randomBytes } from 'node:crypto';
import { AccessDenied, InvalidGrant, InvalidRequest, OAuthError } from '../../errors/oauth.js';
import { checkPassword, hashPassword } from '../../users/passwords.js';
import { optionalString, parseScope, requiredString } from '../params.js';
import { issueUserTokens } from '../tokens/user-tokens.js';
import type { GrantDeps, GrantHandler, TokenRequest, TokenResponse } from './types.js';

/** Brute-force protection: per user and IP, as Auth0 describes it. */
export const BRUTE_FORCE = { limit: 10, windowSeconds: 900, blockSeconds: 900 } as const;
const WRONG = 'Wrong email or password.';

async function passwordLogin(
  req: TokenRequest,
  deps: GrantDeps,
  realm: string | undefined,
): Promise<TokenResponse> {
  const { client, params, ip } = req;
  const username = requiredString(params, 'username');
  const password = requiredString(params, 'password');
  const settings = await deps.tenantSettings();
  const connectionName =
    realm ?? (typeof settings['default_directory'] === 'string' ? settings['default_directory'] : undefined);
  if (connectionName === undefined || connectionName === '') {
    throw new OAuthError('server_error', 'Authorization server not configured with default connection.', 500);
  }
  const connection = await deps.findConnection(connectionName);
  if (!connection || connection.strategy !== 'auth0')
    throw new InvalidRequest(`Unknown realm: ${connectionName}`);
  if (!connection.enabledClients.includes(client.clientId)) {
    throw new AccessDenied(`The connection ${connection.name} is not enabled for this client.`);
  }
  const user = await deps.findUserByLogin(connection.name, username);
  if (!user?.passwordHash) {
    // Spend the same hashing time as a real check so response time does not reveal which accounts exist.
    await checkPassword(password, await decoyHash());
    throw new InvalidGrant(WRONG);
  }
  const now = deps.nowSeconds();
  const guarded = connection.options['brute_force_protection'] !== false;
  // The attempt is counted before the slow hash check, atomically, so parallel guesses share the limit.
  if (
    guarded &&
    !(await deps.loginFailures.reserveAttempt(
      user.userId,
      ip,
      now,
      BRUTE_FORCE.windowSeconds,
      BRUTE_FORCE.limit,
    ))
  ) {
    throw tooManyAttempts();
  }
  const check = await checkPassword(password, user.passwordHash);
  if (!check.ok) {
    if (guarded)
      await deps.loginFailures.recordFailure(
        user.userId,
        ip,
        now,
        BRUTE_FORCE.limit,
        BRUTE_FORCE.blockSeconds,
      );
    throw new InvalidGrant(WRONG);
  }
  if (guarded) await deps.loginFailures.clear(user.userId, ip);
  // Auth0 compat: a blocked user gets 401 unauthorized "user is blocked", after the password check.
  if (user.blocked) throw userBlocked();
  const rehash = check.needsRehash ? await hashPassword(password) : undefined;
  // Undefined when an admin blocked or deleted the user while the password was being checked.
  const loggedIn = await deps.recordLogin(user, ip, rehash);
  if (!loggedIn) throw (await deps.findUser(user.userId)) ? userBlocked() : new InvalidGrant(WRONG);
  const audience = optionalString(params, 'audience') ?? nonEmpty(settings['default_audience']);
  return issueUserTokens(
    {
      client,
      user: loggedIn,
      audience,
      requested: parseScope(optionalString(params, 'scope')),
      gty: 'password',
    },
    deps,
  );
}

let decoy: Promise<string> | undefined;
function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(16).toString('hex'));
  return decoy;
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function userBlocked(): OAuthError {
  return new OAuthError('unauthorized', 'user is blocked', 401);
}

function tooManyAttempts(): OAuthError {
  return new OAuthError(
    'too_many_attempts',
    'Your account has been blocked after multiple consecutive login attempts. Wait for the block to expire or ask an administrator to lift it.',
    429,
  );
}

/** Resource owner password grant against the tenant's default directory. */
export const password: GrantHandler = {
  grantType: 'password',
  params: new Set(['username', 'password', 'audience', 'scope', 'realm']),
  handle: (req, deps) => passwordLogin(req, deps, optionalString(req.params, 'realm')),
};

/** Auth0's password-realm grant: `realm` names the database connection. */
export const passwordRealm: GrantHandler = {
  grantType: 'http://auth0.com/oauth/grant-type/password-realm',
  params: new Set(['username', 'password', 'audience', 'scope', 'realm']),
  handle: (req, deps) => passwordLogin(req, deps, requiredString(req.params, 'realm')),
};
