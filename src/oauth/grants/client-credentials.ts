import type { ClientGrant } from '../../domain/client-grant.js';
import { AccessDenied, InvalidRequest, UnauthorizedClient } from '../../errors/oauth.js';
import { evaluateAccess } from '../../policy/evaluate.js';
import { toPolicyApi, toPolicyGrant } from '../policy-inputs.js';
import { optionalString, parseScope, type TokenParams } from '../params.js';
import { buildAccessToken } from '../tokens/access-token.js';
import { assertApiProofOfPossession } from '../tokens/sender-constraint.js';
import { encryptAccessToken, tokenEncryptionOf } from '../tokens/token-encryption.js';
import type { GrantHandler } from './types.js';

/** RFC 6749 §4.4 under seed 002's client-access policy. */
export const clientCredentials: GrantHandler = {
  grantType: 'client_credentials',
  params: new Set(['audience', 'resource', 'scope', 'organization']),
  async handle({ client, authMethod, params, jkt }, deps) {
    if (authMethod === 'none')
      throw new UnauthorizedClient('Client credentials require client authentication');
    // Auth0 compat: `resource` is accepted as an alias of audience; no tenant default applies here.
    const audience = optionalString(params, 'audience') ?? optionalString(params, 'resource');
    if (audience === undefined || audience === '')
      throw new InvalidRequest('Missing required parameter: audience');
    const api = await deps.findApi(audience);
    if (!api) throw new AccessDenied(`Service not enabled within domain: ${audience}`);
    const grants = await deps.findGrants(client.clientId, audience);
    const decision = evaluateAccess({
      subject: 'client',
      api: toPolicyApi(api),
      client: { clientId: client.clientId, isFirstParty: client.isFirstParty },
      grants: grants.map(toPolicyGrant),
      requestedScopes: parseScope(optionalString(params, 'scope')),
    });
    if (!decision.allowed) {
      throw new AccessDenied(
        decision.reason === 'policy_deny_all'
          ? `Client access to "${audience}" is denied by the API's access policy.`
          : `Client is not authorized to access "${audience}". You need to create a "client-grant" associated to this API. See: https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants`,
      );
    }
    assertNoOrganizationRequired(
      grants.find((g) => g.id === decision.grantId),
      params,
    );
    assertApiProofOfPossession(api, client, jkt);
    const now = deps.nowSeconds();
    const token = buildAccessToken({
      issuer: deps.issuer,
      api,
      clientId: client.clientId,
      subject: `${client.clientId}@clients`,
      scopes: decision.scopes,
      permissions: decision.permissions,
      gty: 'client-credentials',
      nowSeconds: now,
      jti: deps.newJti(),
      ...(jkt !== undefined ? { jkt } : {}),
    });
    const signed = await deps.signer.sign(token.payload, token.sign);
    const encryption = tokenEncryptionOf(api.extra);
    return {
      access_token: encryption ? await encryptAccessToken(signed, encryption) : signed,
      ...(decision.scopes.length > 0 ? { scope: decision.scopes.join(' ') } : {}),
      expires_in: token.expiresIn,
      token_type: jkt !== undefined ? 'DPoP' : 'Bearer',
    };
  },
};

/**
 * Auth0: `organization_usage: "require"` means the application must name an organization. Latchkey has no
 * organizations yet, so such a grant can never be satisfied: refuse rather than issue a token that carries
 * no organization.
 */
function assertNoOrganizationRequired(grant: ClientGrant | undefined, params: TokenParams): void {
  if (grant?.organizationUsage !== 'require') return;
  if (optionalString(params, 'organization') === undefined) {
    throw new InvalidRequest(
      `Missing required parameter: organization (the client grant for "${grant.audience}" requires one)`,
    );
  }
  throw new AccessDenied(
    `The client grant for "${grant.audience}" requires an organization, and this server does not support organizations yet.`,
  );
}
