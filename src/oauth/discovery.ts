import { MFA_ACR } from '../mfa/second-factor.js';
import { DPOP_ALGS } from './dpop/verify-proof.js';
import type { ClientCredential } from '../domain/client.js';
import type { ClientAuthMethod } from './client-auth/types.js';
import { GRANTS } from './grants/index.js';
import type { IdTokenAlg } from './tokens/id-token.js';
import { OIDC_SCOPES } from './tokens/user-tokens.js';

/**
 * A metadata value. Lists from several contributions are merged and a flag is true when any contribution
 * sets it (a `*_supported` flag says that something is supported); a string must agree.
 */
export type DiscoveryValue = string | boolean | readonly string[];

/**
 * What one served route adds to the OpenID Provider metadata (RFC 8414 §2, OIDC Discovery §3):
 * `endpoint` names the key whose value is the route's own URL, `metadata` the capabilities it brings.
 */
export interface DiscoveryContribution {
  readonly endpoint?: string;
  readonly metadata?: Readonly<Record<string, DiscoveryValue>>;
}

/**
 * Keys every document carries, whatever is served. The empty lists are deliberate: RFC 8414 and OIDC Discovery make
 * `response_types_supported` required, and an omitted `response_modes_supported` or
 * `request_uri_parameter_supported` would default to values this server does not support.
 */
const BASE_METADATA: Readonly<Record<string, DiscoveryValue>> = {
  response_types_supported: [],
  response_modes_supported: [],
  subject_types_supported: ['public'],
  request_parameter_supported: false,
  request_uri_parameter_supported: false,
};

/**
 * The metadata document built from the contributions of the routes that are registered: the issuer, the
 * URLs in registration order, then the other keys alphabetically.
 * @throws Error when two contributions give one key different strings, or a list and a scalar.
 */
export function buildDiscoveryDocument(
  issuer: string,
  contributions: readonly { readonly path: string; readonly contribution: DiscoveryContribution }[],
): Record<string, DiscoveryValue> {
  const urls: Record<string, DiscoveryValue> = {};
  const metadata: Record<string, DiscoveryValue> = {};
  for (const { path, contribution } of contributions) {
    const { endpoint } = contribution;
    if (endpoint !== undefined) urls[endpoint] = merge(endpoint, urls[endpoint], `${issuer}${path.slice(1)}`);
  }
  for (const entries of [BASE_METADATA, ...contributions.map((c) => c.contribution.metadata)]) {
    for (const [key, value] of Object.entries(entries ?? {})) {
      metadata[key] = merge(key, metadata[key], value);
    }
  }
  const sorted = Object.keys(metadata)
    .sort()
    .map((key) => [key, metadata[key]] as const);
  return { issuer, ...urls, ...Object.fromEntries(sorted) };
}

function merge(key: string, current: DiscoveryValue | undefined, next: DiscoveryValue): DiscoveryValue {
  if (current === undefined) return next;
  if (isList(current) && isList(next)) return [...new Set([...current, ...next])];
  if (typeof current === 'boolean' && typeof next === 'boolean') return current || next;
  if (current === next) return current;
  throw new Error(`discovery metadata "${key}" is contributed twice with different values`);
}

function isList(value: DiscoveryValue): value is readonly string[] {
  return Array.isArray(value);
}

/** Every key of a union type, checked by the compiler: a new member must be listed here to compile. */
function allOf<T extends string>(members: Record<T, true>): T[] {
  return Object.keys(members) as T[];
}

const CLIENT_AUTH_METHODS = allOf<ClientAuthMethod>({
  client_secret_basic: true,
  client_secret_post: true,
  private_key_jwt: true,
  // Public clients (token_endpoint_auth_method "none"); Auth0 accepts them but leaves this value out.
  none: true,
});
const CLIENT_ASSERTION_ALGS = allOf<ClientCredential['alg']>({ RS256: true, RS384: true, PS256: true });
const ID_TOKEN_ALGS = allOf<IdTokenAlg>({ HS256: true, RS256: true, RS512: true, PS256: true });

/** POST /oauth/token: the grants in the registry, client authentication, and the ID tokens it issues. */
export const TOKEN_ENDPOINT_DISCOVERY: DiscoveryContribution = {
  endpoint: 'token_endpoint',
  metadata: {
    grant_types_supported: [...GRANTS.keys()],
    token_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
    token_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGS,
    scopes_supported: [...OIDC_SCOPES, ...(GRANTS.has('refresh_token') ? ['offline_access'] : [])],
    id_token_signing_alg_values_supported: ID_TOKEN_ALGS,
    claims_supported: ['aud', 'exp', 'iat', 'iss', 'sub'],
    // RFC 9449 §5.1: the proof algorithms /oauth/token and the APIs accept.
    dpop_signing_alg_values_supported: [...DPOP_ALGS],
  },
};

/** POST /oauth/revoke authenticates clients exactly as the token endpoint does. */
export const REVOCATION_ENDPOINT_DISCOVERY: DiscoveryContribution = {
  endpoint: 'revocation_endpoint',
  metadata: {
    revocation_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
    revocation_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGS,
  },
};

/** GET /userinfo: the profile claims `profileClaims` releases for the profile, email and phone scopes. */
export const USERINFO_ENDPOINT_DISCOVERY: DiscoveryContribution = {
  endpoint: 'userinfo_endpoint',
  metadata: {
    claims_supported: [
      'sub',
      'name',
      'nickname',
      'given_name',
      'family_name',
      'picture',
      'updated_at',
      'email',
      'email_verified',
      'phone_number',
      'phone_number_verified',
    ],
  },
};

export const JWKS_DISCOVERY: DiscoveryContribution = { endpoint: 'jwks_uri' };

/**
 * GET /authorize: the code flow with PKCE, the implicit and hybrid flows (spelled as Auth0 lists them; any
 * order of the words is accepted), answered in the query, the fragment, by form_post or by web_message.
 */
export const AUTHORIZATION_ENDPOINT_DISCOVERY: DiscoveryContribution = {
  endpoint: 'authorization_endpoint',
  metadata: {
    response_types_supported: [
      'code',
      'token',
      'id_token',
      'code token',
      'code id_token',
      'token id_token',
      'code token id_token',
    ],
    response_modes_supported: ['query', 'fragment', 'form_post', 'web_message'],
    // The implicit grant is served here, not at the token endpoint (OIDC Discovery §3).
    grant_types_supported: ['implicit'],
    // plain is accepted from confidential clients only; S256 is the one to use (RFC 9700 §2.1.1).
    code_challenge_methods_supported: ['S256'],
    claims_supported: ['auth_time', 'nonce', 'sid', 'amr', 'acr'],
    // Auth0's multi-factor policy: asked in acr_values, it forces a second factor (login/mfa-step.ts).
    acr_values_supported: [MFA_ACR],
  },
};

/** GET /oidc/logout: OIDC RP-Initiated Logout 1.0 (openid-client and express-openid-connect look for it). */
export const END_SESSION_ENDPOINT_DISCOVERY: DiscoveryContribution = { endpoint: 'end_session_endpoint' };
