import {
  DpopRefused,
  InvalidRequest,
  UnauthorizedClient,
  UnsupportedGrantType,
  UseDpopNonce,
} from '../errors/oauth.js';
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
import { assertClientProofOfPossession } from './tokens/sender-constraint.js';
import { isPublicClient } from './tokens/refresh-policy.js';
import { markProofUsed, type PutOnce } from './dpop/replay.js';
import { DpopProofError, verifyDpopProof } from './dpop/verify-proof.js';
import type { DpopNonces } from './dpop/nonce.js';
import type { TokenAudit } from '../logs/token-events.js';

export interface TokenEndpointInput {
  readonly body: unknown;
  readonly authorization: string | undefined;
  readonly ip: string;
  readonly userAgent: string | undefined;
  /** Filled in as the request is handled, for its log event (see logs/token-events.ts). */
  readonly audit: TokenAudit;
  /** The request's `DPoP` header(s), as received. */
  readonly dpop?: string | readonly string[];
}

/** What checking a DPoP proof at the token endpoint needs. */
export interface TokenDpopDeps {
  readonly nonces: DpopNonces;
  /** The one-time store's put: a proof's `jti` is used once, on every node. */
  readonly putOnce: PutOnce;
}

export type TokenEndpointDeps = ClientAuthDeps & GrantDeps & { readonly dpop: TokenDpopDeps };

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
  const jkt = input.dpop === undefined ? undefined : await checkProof(input.dpop, client, deps);
  assertClientProofOfPossession(client, jkt);
  return grant.handle(
    {
      client,
      authMethod: method,
      params,
      ip: input.ip,
      userAgent: input.userAgent,
      audit,
      ...(jkt !== undefined ? { jkt } : {}),
    },
    deps,
  );
}

/**
 * RFC 9449 §5: a `DPoP` header on any grant binds the tokens to the proof's key. Public clients must put a
 * server nonce in their proof (Auth0: `use_dpop_nonce`); the proof's `jti` is then used up.
 * @returns the proof key's thumbprint
 */
async function checkProof(
  header: string | readonly string[],
  client: Client,
  deps: TokenEndpointDeps,
): Promise<string> {
  // Node joins repeated headers with commas, which a compact JWS never holds.
  if (typeof header !== 'string' || header.includes(','))
    throw new DpopRefused('Exactly one DPoP header is allowed');
  try {
    const proof = await verifyDpopProof(header, {
      method: 'POST',
      url: `${deps.issuer}oauth/token`,
      nowSeconds: deps.nowSeconds(),
      ...(isPublicClient(client) ? { nonce: deps.dpop.nonces.accepts } : {}),
    });
    await markProofUsed(deps.dpop.putOnce, proof);
    return proof.jkt;
  } catch (error) {
    if (!(error instanceof DpopProofError)) throw error;
    throw error.reason === 'use_dpop_nonce' ? new UseDpopNonce() : new DpopRefused(error.message);
  }
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
