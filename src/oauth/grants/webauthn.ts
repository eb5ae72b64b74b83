import type { Connection } from '../../domain/connection.js';
import type { User } from '../../domain/user.js';
import { InvalidRequest, OAuthError } from '../../errors/oauth.js';
import { optionalString, parseScope, requiredString, type TokenParams } from '../params.js';
import { issueUserTokens } from '../tokens/user-tokens.js';
import type { GrantHandler } from './types.js';

/** What the webauthn grant hands to the passkey ceremonies (src/passkeys/native.ts). */
export interface PasskeySignInInput {
  readonly clientId: string;
  readonly realm: string | undefined;
  readonly authSession: string;
  /** The authenticator's answer, parsed: a JSON object (JSON body) or a JSON string (form body). */
  readonly response: Readonly<Record<string, unknown>>;
  readonly ip: string;
  readonly userAgent: string | undefined;
  /** Told the user once the passkey names one, so a refusal after that is logged against them. */
  readonly identified: (user: User) => void;
}

export interface PasskeySignIn {
  readonly user: User;
  readonly connection: Connection;
  readonly signup: boolean;
}

/** `authn_response` arrives as an object from JSON bodies (auth0-spa-js) and as a string from forms (auth-js). */
function authnResponse(params: TokenParams): Readonly<Record<string, unknown>> {
  let value = params['authn_response'];
  if (value === undefined || value === '')
    throw new InvalidRequest('Missing required parameter: authn_response');
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      throw new InvalidRequest('Invalid parameter: authn_response must be a JSON object');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidRequest('Invalid parameter: authn_response must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/** Native passkey sign-up and sign-in (spec 1.5): finishes the ceremony /passkey/* started, then issues tokens. */
export const webauthn: GrantHandler = {
  grantType: 'urn:okta:params:oauth:grant-type:webauthn',
  params: new Set(['auth_session', 'authn_response', 'realm', 'scope', 'audience', 'organization']),
  async handle(req, deps) {
    const { client, params, ip, userAgent, audit } = req;
    const realm = optionalString(params, 'realm');
    audit.connection = realm;
    const { user, connection } = await deps.passkeySignIn({
      clientId: client.clientId,
      realm,
      authSession: requiredString(params, 'auth_session'),
      response: authnResponse(params),
      ip,
      userAgent,
      identified: (user) => Object.assign(audit, { userId: user.userId, userName: user.email }),
    });
    Object.assign(audit, { connection: connection.name, userId: user.userId, userName: user.email });
    // Auth0 compat: the password grant's answer for a blocked user.
    if (user.blocked) throw new OAuthError('unauthorized', 'user is blocked', 401);
    // Counted as a login; undefined when the user was blocked or removed meanwhile.
    const current = await deps.recordLogin(user, ip, undefined);
    if (!current) throw new OAuthError('unauthorized', 'user is blocked', 401);
    const fallback = (await deps.tenantSettings())['default_audience'];
    const audience =
      optionalString(params, 'audience') ??
      (typeof fallback === 'string' && fallback !== '' ? fallback : undefined);
    return issueUserTokens(
      {
        client,
        user: current,
        audience,
        requested: parseScope(optionalString(params, 'scope')),
        gty: 'webauthn',
        from: { ip, userAgent },
        ...(req.jkt !== undefined ? { context: { jkt: req.jkt } } : {}),
      },
      deps,
    );
  },
};
