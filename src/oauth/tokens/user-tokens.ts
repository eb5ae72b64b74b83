import { createHash, randomBytes } from 'node:crypto';
import type { Client } from '../../domain/client.js';
import { CURRENT_USER_SCOPES, managementAudience } from '../../domain/management-api.js';
import type { ResourceServer } from '../../domain/resource-server.js';
import type { User } from '../../domain/user.js';
import { AccessDenied, UnauthorizedClient } from '../../errors/oauth.js';
import { evaluateAccess } from '../../policy/evaluate.js';
import type { GrantDeps, TokenResponse } from '../grants/types.js';
import { toPolicyApi, toPolicyGrant } from '../policy-inputs.js';
import { buildAccessToken } from './access-token.js';
import { buildIdToken, type IdTokenAlg } from './id-token.js';

/** Scopes that are about the user's identity, not an API (OIDC Core §5.4). */
export const OIDC_SCOPES = ['openid', 'profile', 'email', 'address', 'phone'] as const;
const OIDC = new Set<string>([...OIDC_SCOPES, 'offline_access']);
const CURRENT_USER = new Set<string>(CURRENT_USER_SCOPES);

export interface UserTokenInput {
  readonly client: Client;
  readonly user: User;
  /** The API audience; undefined for a userinfo-only token. */
  readonly audience: string | undefined;
  /** Every scope requested (OIDC and API), or undefined when the request sent no scope. */
  readonly requested: readonly string[] | undefined;
  readonly gty: string;
  /**
   * Refresh exchanges keep the token's family and never mint a new one for non-rotating clients; a rotated
   * token inherits the family's absolute expiry (Auth0: the absolute lifetime counts from the original grant).
   */
  readonly refresh?: {
    readonly familyId: string;
    readonly rotate: boolean;
    readonly expiresAt: number | undefined;
  };
}

interface RefreshSettings {
  rotation_type?: string;
  expiration_type?: string;
  token_lifetime?: number;
  idle_token_lifetime?: number;
  infinite_token_lifetime?: boolean;
  infinite_idle_token_lifetime?: boolean;
  leeway?: number;
}

export function refreshSettings(client: Client): RefreshSettings {
  return (client.settings['refresh_token'] as RefreshSettings | undefined) ?? {};
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/**
 * Issues the access token (and ID and refresh tokens when asked for and allowed) for a user,
 * under the API's user-delegated policy, the client's grants and the user's RBAC permissions (seed 002).
 * @throws AccessDenied / UnauthorizedClient when the policy refuses.
 */
export async function issueUserTokens(input: UserTokenInput, deps: GrantDeps): Promise<TokenResponse> {
  const { client, user } = input;
  const now = deps.nowSeconds();
  const requested = input.requested;
  const oidcRequested = (requested ?? []).filter((s) => OIDC.has(s));
  const apiRequested = requested?.filter((s) => !OIDC.has(s));

  const api = input.audience === undefined ? undefined : await deps.findApi(input.audience);
  if (input.audience !== undefined && !api)
    throw new AccessDenied(`Service not enabled within domain: ${input.audience}`);

  let apiScopes: string[] = [];
  let permissions: string[] = [];
  if (api) {
    const decision = evaluateAccess({
      subject: 'user',
      api: toPolicyApi(api),
      client: { clientId: client.clientId, isFirstParty: client.isFirstParty },
      grants: (await deps.findGrants(client.clientId, api.identifier)).map(toPolicyGrant),
      requestedScopes: apiRequested,
      ...(api.enforcePolicies
        ? { rbacPermissions: await deps.effectivePermissions(user.userId, api.identifier) }
        : {}),
    });
    if (!decision.allowed) throw refusal(decision.reason, client, api);
    // Seed 003: a user's token for the Management API never carries any-user scopes.
    const cap = api.identifier === managementAudience(deps.issuer) ? CURRENT_USER : undefined;
    apiScopes = cap ? decision.scopes.filter((s) => cap.has(s)) : decision.scopes;
    permissions = cap ? decision.permissions.filter((s) => cap.has(s)) : decision.permissions;
  }

  const wantsOffline = requested?.includes('offline_access') === true;
  const offline =
    wantsOffline && client.grantTypes.includes('refresh_token') && (api ? api.allowOfflineAccess : true);
  const openid = oidcRequested.includes('openid');
  const userinfo = `${deps.issuer}userinfo`;
  const target = api ?? userinfoApi(userinfo, client.tenantId);
  const grantedOidc = OIDC_SCOPES.filter((s) => oidcRequested.includes(s));
  const scopes = [...grantedOidc, ...apiScopes, ...(offline ? ['offline_access'] : [])];

  const access = buildAccessToken({
    issuer: deps.issuer,
    api: target,
    clientId: client.clientId,
    subject: user.userId,
    extraAudiences: api && openid ? [userinfo] : [],
    scopes,
    permissions,
    gty: input.gty,
    nowSeconds: now,
    jti: deps.newJti(),
  });
  const response: { -readonly [K in keyof TokenResponse]: TokenResponse[K] } = {
    access_token: await deps.signer.sign(access.payload, access.sign),
    expires_in: access.expiresIn,
    token_type: 'Bearer',
  };
  if (openid) response.id_token = await signIdToken(client, user, grantedOidc, now, deps);
  if (offline && (input.refresh === undefined || input.refresh.rotate)) {
    response.refresh_token = await mintRefreshToken(
      client,
      user,
      target.identifier,
      scopes,
      input.refresh,
      now,
      deps,
    );
  }
  if (scopes.length > 0) response.scope = scopes.join(' ');
  if (api && apiScopes.length > 0) {
    const at = new Date(now * 1000).toISOString();
    await deps.upsertConsent({
      id: deps.newId('cgr'),
      userId: user.userId,
      clientId: client.clientId,
      audience: api.identifier,
      scope: apiScopes,
      createdAt: at,
      updatedAt: at,
    });
  }
  return response;
}

function refusal(
  reason: 'policy_deny_all' | 'no_client_grant' | 'third_party_system_api',
  client: Client,
  api: ResourceServer,
) {
  if (reason === 'policy_deny_all')
    return new AccessDenied(`User access to "${api.identifier}" is denied by the API's access policy.`);
  if (reason === 'third_party_system_api')
    return new AccessDenied(`Third-party applications cannot access "${api.identifier}".`);
  // Spec 1.4: a third-party client without a grant is unauthorized_client.
  if (!client.isFirstParty)
    return new UnauthorizedClient(`Client is not authorized to access "${api.identifier}".`);
  return new AccessDenied(
    `Client is not authorized to access "${api.identifier}". You need to create a "client-grant" associated to this API. See: https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants`,
  );
}

async function signIdToken(
  client: Client,
  user: User,
  oidc: readonly string[],
  now: number,
  deps: GrantDeps,
): Promise<string> {
  const jwt =
    (client.settings['jwt_configuration'] as
      { alg?: IdTokenAlg; lifetime_in_seconds?: number } | undefined) ?? {};
  const idToken = buildIdToken({
    issuer: deps.issuer,
    clientId: client.clientId,
    user,
    scopes: oidc,
    nowSeconds: now,
    lifetime: jwt.lifetime_in_seconds ?? 36_000,
  });
  const alg = jwt.alg ?? 'RS256';
  return deps.signer.sign(idToken, {
    alg,
    typ: 'JWT',
    ...(alg === 'HS256' ? { secret: client.clientSecret } : {}),
  });
}

async function mintRefreshToken(
  client: Client,
  user: User,
  audience: string,
  scopes: readonly string[],
  family: { readonly familyId: string; readonly expiresAt: number | undefined } | undefined,
  now: number,
  deps: GrantDeps,
): Promise<string> {
  const settings = refreshSettings(client);
  const expiring = settings.expiration_type === 'expiring';
  const absoluteExpiry =
    expiring && settings.infinite_token_lifetime !== true
      ? now + (settings.token_lifetime ?? 2_592_000)
      : undefined;
  const token = randomBytes(48).toString('base64url');
  await deps.refreshTokens.insert({
    id: deps.newId('rt'),
    tokenHash: hashRefreshToken(token),
    familyId: family?.familyId ?? deps.newId('rtf'),
    userId: user.userId,
    clientId: client.clientId,
    audience,
    scope: scopes,
    rotating: settings.rotation_type === 'rotating',
    createdAt: now,
    expiresAt: family ? family.expiresAt : absoluteExpiry,
    idleExpiresAt:
      expiring && settings.infinite_idle_token_lifetime !== true
        ? now + (settings.idle_token_lifetime ?? 1_296_000)
        : undefined,
    lastUsedAt: undefined,
    rotatedAt: undefined,
    revokedAt: undefined,
  });
  return token;
}

function userinfoApi(identifier: string, tenantId: string): ResourceServer {
  return {
    tenantId,
    id: 'userinfo',
    identifier,
    name: 'userinfo',
    isSystem: true,
    scopes: [],
    signingAlg: 'RS256',
    signingSecret: undefined,
    allowOfflineAccess: true,
    skipConsentForVerifiableFirstPartyClients: true,
    tokenLifetime: 86_400,
    tokenLifetimeForWeb: 7_200,
    enforcePolicies: false,
    tokenDialect: 'access_token',
    userPolicy: 'allow_all',
    clientPolicy: 'deny_all',
    extra: {},
    createdAt: '',
    updatedAt: '',
  };
}
