import { InvalidRequest, UnauthorizedClient, UnsupportedGrantType } from '../errors/oauth.js';
import { authenticateClient, type ClientAuthDeps } from './client-auth/index.js';
import { GRANTS } from './grants/index.js';
import type { GrantDeps, GrantHandler, TokenResponse } from './grants/types.js';
import { optionalString, parseTokenParams } from './params.js';

export interface TokenEndpointInput {
  readonly body: unknown;
  readonly authorization: string | undefined;
  readonly ip: string;
}

export type TokenEndpointDeps = ClientAuthDeps & GrantDeps;

/**
 * POST /oauth/token, in node-oidc-provider's order: parse, reject duplicates, pick the grant,
 * authenticate the client, check the grant is allowed for it, dispatch.
 * @throws OAuthError subclasses, rendered as `{error, error_description}`.
 */
export async function handleTokenRequest(
  input: TokenEndpointInput,
  deps: TokenEndpointDeps,
): Promise<TokenResponse> {
  const params = parseTokenParams(input.body);
  const grant = selectGrant(optionalString(params, 'grant_type'));
  const { client, method } = await authenticateClient({ params, authorization: input.authorization }, deps);
  if (!client.grantTypes.includes(grant.grantType)) {
    throw new UnauthorizedClient(`Grant type '${grant.grantType}' not allowed for the client.`);
  }
  return grant.handle({ client, authMethod: method, params, ip: input.ip }, deps);
}

function selectGrant(grantType: string | undefined): GrantHandler {
  if (grantType === undefined || grantType === '')
    throw new InvalidRequest('Missing required parameter: grant_type');
  const grant = GRANTS.get(grantType);
  if (!grant) throw new UnsupportedGrantType(`Unsupported grant type: ${grantType}`);
  return grant;
}
