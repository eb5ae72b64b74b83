import { AccessDenied, InvalidGrant, InvalidRequest, MfaRequired, OAuthError } from '../../errors/oauth.js';
import { authenticateUser, LoginError } from '../../users/authenticate.js';
import { optionalString, parseScope, requiredString } from '../params.js';
import { issueUserTokens } from '../tokens/user-tokens.js';
import type { GrantDeps, GrantHandler, TokenRequest, TokenResponse } from './types.js';

async function passwordLogin(
  req: TokenRequest,
  deps: GrantDeps,
  realm: string | undefined,
): Promise<TokenResponse> {
  const { client, params, ip, userAgent, audit } = req;
  const login = {
    clientId: client.clientId,
    connection: realm,
    login: requiredString(params, 'username'),
    password: requiredString(params, 'password'),
    ip,
  };
  audit.userName = login.login;
  audit.connection = realm;
  let user;
  try {
    let connection;
    ({ user, connection } = await authenticateUser(login, deps));
    audit.connection = connection.name;
  } catch (error) {
    if (!(error instanceof LoginError)) throw error;
    Object.assign(audit, { login: error.reason, userId: error.userId, connection: error.connection });
    throw toOAuthError(error);
  }
  audit.userId = user.userId;
  const audience =
    optionalString(params, 'audience') ?? nonEmpty((await deps.tenantSettings())['default_audience']);
  if (await deps.mfa.required()) {
    // The password was right; the tokens wait for the second factor (the mfa-* grants finish this request).
    const mfaToken = await deps.mfa.tokens.issue({
      userId: user.userId,
      clientId: client.clientId,
      audience,
      scope: optionalString(params, 'scope'),
      gty: 'password',
      authTime: deps.nowSeconds(),
      amr: ['pwd'],
    });
    throw new MfaRequired(mfaToken, 'mfa_required: the tenant policy asks for a second factor');
  }
  return issueUserTokens(
    {
      client,
      user,
      audience,
      requested: parseScope(optionalString(params, 'scope')),
      gty: 'password',
      from: { ip, userAgent },
      ...(req.jkt !== undefined ? { context: { jkt: req.jkt } } : {}),
    },
    deps,
  );
}

/** Auth0's wording of each sign-in failure at the token endpoint. */
function toOAuthError({ reason, connection }: LoginError): OAuthError {
  switch (reason) {
    case 'no_default_connection':
      return new OAuthError(
        'server_error',
        'Authorization server not configured with default connection.',
        500,
      );
    case 'unknown_connection':
      return new InvalidRequest(`Unknown realm: ${connection ?? ''}`);
    case 'connection_not_enabled':
      return new AccessDenied(`The connection ${connection ?? ''} is not enabled for this client.`);
    case 'unknown_user':
    case 'wrong_password':
    case 'password_unusable':
      return new InvalidGrant('Wrong email or password.');
    // Known and unknown login names are throttled alike and answered alike.
    case 'too_many_attempts':
    case 'identifier_throttled':
      return new OAuthError(
        'too_many_attempts',
        'Your account has been blocked after multiple consecutive login attempts. Wait for the block to expire or ask an administrator to lift it.',
        429,
      );
    case 'address_throttled':
      // Auth0 compat: the answer of its suspicious IP throttling.
      return new OAuthError(
        'too_many_attempts',
        'We have detected suspicious login behavior and further attempts will be blocked. Please contact the administrator.',
        429,
      );
    case 'blocked':
      // Auth0 compat: 401 unauthorized "user is blocked".
      return new OAuthError('unauthorized', 'user is blocked', 401);
    // Only the login page's passkey sign-in fails this way; the password grant never does.
    case 'passkey_refused':
      return new InvalidGrant('The passkey could not be verified.');
    default:
      return reason satisfies never;
  }
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
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
