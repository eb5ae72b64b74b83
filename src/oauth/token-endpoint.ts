import { InvalidRequest, UnauthorizedClient, UnsupportedGrantType } from '../errors/oauth.js';
import type { Client } from '../domain/client.js';
import { authenticateClient, CLIENT_AUTH_PARAMS, type ClientAuthDeps } from './client-auth/index.js';
import { GRANTS } from './grants/index.js';
import type { GrantDeps, GrantHandler, TokenResponse } from './grants/types.js';
import {
  assertParamLengths,
  optionalString,
  parseTokenBody,
  rejectDuplicates,
  type TokenParams,
} from './params.js';
import { assertClientNeedsNoProofOfPossession } from './tokens/sender-constraint.js';
import type { TokenAudit } from '../logs/token-events.js';

export interface TokenEndpointInput {
  readonly body: unknown;
  readonly authorization: string | undefined;
  readonly ip: string;
  readonly userAgent: string | undefined;
  /** Filled in as the request is handled, for its log event (see logs/token-events.ts). */
  readonly audit: TokenAudit;
}

export type TokenEndpointDeps = ClientAuthDeps & GrantDeps;

/** Every parameter some grant or client authentication reads; anything else is dropped unread. */
const KNOWN_PARAMS: ReadonlySet<string> = new Set([
  'grant_type',
  ...CLIENT_AUTH_PARAMS,
  ...[...GRANTS.values()].flatMap((grant) => [...grant.params]),
]);

/**
 * POST /oauth/token, in node-oidc-provider's order: parse, allow-list params, reject duplicates and overlong
 * identifiers, authenticate the client, check the grant type is supported and allowed for it (and that the client
 * demands nothing this server cannot give), dispatch.
 * @throws OAuthError subclasses, rendered as `{error, error_description}`.
 */
export async function handleTokenRequest(
  input: TokenEndpointInput,
  deps: TokenEndpointDeps,
): Promise<TokenResponse> {
  const { audit } = input;
  const params = assertParamLengths(rejectDuplicates(allowListed(parseTokenBody(input.body))));
  audit.grantType = optionalString(params, 'grant_type');
  audit.clientId = optionalString(params, 'client_id');
  audit.audience = optionalString(params, 'audience') ?? optionalString(params, 'resource');
  const { client, method } = await authenticateClient({ params, authorization: input.authorization }, deps);
  audit.clientId = client.clientId;
  audit.clientName = client.name;
  const grant = supportedGrant(optionalString(params, 'grant_type'));
  assertGrantAllowed(client, grant);
  assertClientNeedsNoProofOfPossession(client);
  return grant.handle(
    { client, authMethod: method, params, ip: input.ip, userAgent: input.userAgent, audit },
    deps,
  );
}

function allowListed(body: TokenParams): TokenParams {
  const names = Object.keys(body);
  if (names.every((name) => KNOWN_PARAMS.has(name))) return body;
  return Object.fromEntries(names.filter((name) => KNOWN_PARAMS.has(name)).map((name) => [name, body[name]]));
}

function supportedGrant(grantType: string | undefined): GrantHandler {
  if (grantType === undefined || grantType === '')
    throw new InvalidRequest('Missing required parameter: grant_type');
  const grant = GRANTS.get(grantType);
  if (!grant) throw new UnsupportedGrantType(`Unsupported grant type: ${grantType}`);
  return grant;
}

function assertGrantAllowed(client: Client, grant: GrantHandler): void {
  if (!client.grantTypes.includes(grant.grantType)) {
    throw new UnauthorizedClient(`Grant type '${grant.grantType}' not allowed for the client.`);
  }
}
