import { createHash, randomBytes } from 'node:crypto';
import type { Client } from '../../domain/client.js';
import { CURRENT_USER_SCOPES, managementAudience } from '../../domain/management-api.js';
import type { Consent, RefreshTokenRecord } from '../../domain/refresh-token.js';
import type { ResourceServer } from '../../domain/resource-server.js';
import type { User } from '../../domain/user.js';
import { AccessDenied, InvalidGrant, UnauthorizedClient } from '../../errors/oauth.js';
import { evaluateAccess } from '../../policy/evaluate.js';
import type { GrantDeps, IssuanceWrites, RequestOrigin, TokenResponse } from '../grants/types.js';
import { toPolicyApi, toPolicyGrant } from '../policy-inputs.js';
import { buildAccessToken } from './access-token.js';
import { buildIdToken, type IdTokenAlg } from './id-token.js';
import { isPublicClient, refreshPolicy, type RefreshPolicy } from './refresh-policy.js';
import { assertApiProofOfPossession } from './sender-constraint.js';
import { encryptAccessToken, tokenEncryptionOf } from './token-encryption.js';

/** Scopes that are about the user's identity, not an API (OIDC Core §5.4). */
export const OIDC_SCOPES = ['openid', 'profile', 'email', 'address', 'phone'] as const;
const OIDC = new Set<string>([...OIDC_SCOPES, 'offline_access']);
const CURRENT_USER = new Set<string>(CURRENT_USER_SCOPES);

/** What the sign-in that leads to these tokens knows beyond the token request (browser flows, DPoP). */
export interface IssueContext {
  /** The authorization request's nonce, echoed in the ID token. */
  readonly nonce?: string;
  /** When the user authenticated (epoch seconds): the ID token's `auth_time`. */
  readonly authTime?: number;
  /** The SSO session the tokens belong to: the ID token's `sid`. */
  readonly sid?: string;
  /** How the user authenticated: the ID token's `amr`. */
  readonly amr?: readonly string[];
  /** The ID token's `acr` (OIDC Core §2): the authentication context class the sign-in satisfied. */
  readonly acr?: string;
  /** OIDC Core §3.3.2.11: the ID token travels beside the access token in a front channel (`at_hash`). */
  readonly atHash?: boolean;
  /**
   * The response type names `id_token`: an ID token is issued even when the scope left out `openid` (Auth0
   * answers seed 003's `token id_token` request for API scopes alone with both tokens).
   */
  readonly idToken?: boolean;
  /** OIDC Core §3.3.2.11: an authorization code travels beside the ID token (`c_hash`). */
  readonly code?: string;
  /** RFC 9449: the DPoP key thumbprint the access token is bound to (`cnf.jkt`). */
  readonly jkt?: string;
  /**
   * The tokens travel in the front channel (implicit and hybrid responses): the access token lives the API's
   * token_lifetime_for_web, and no refresh token is issued, whatever the scope asks.
   */
  readonly frontChannel?: boolean;
  /** The family a new refresh token starts (an authorization code fixes it, so a replay can revoke it). */
  readonly refreshFamilyId?: string;
}

export interface UserTokenInput {
  readonly client: Client;
  readonly user: User;
  /** The API audience; undefined for a userinfo-only token. */
  readonly audience: string | undefined;
  /** Every scope requested (OIDC and API), or undefined when the request sent no scope. */
  readonly requested: readonly string[] | undefined;
  readonly gty: string;
  /** Where the request came from: a refresh token records it as its device. */
  readonly from: RequestOrigin;
  readonly context?: IssueContext;
  /** The refresh token being exchanged (with the expiry its client's policy gives it): its family carries over. */
  readonly refresh?: RefreshTokenRecord;
  /** The consent page's question: what the policy allows before the user's stored consent narrows it. */
  readonly beforeConsent?: boolean;
}

/** The outcome of the policy for one request: what the tokens may carry. */
export interface UserAccessDecision {
  /** The API the access token is for (the userinfo pseudo-API when no audience was asked for). */
  readonly target: ResourceServer;
  /** True when `target` is a real API rather than userinfo. */
  readonly isApi: boolean;
  readonly apiScopes: readonly string[];
  readonly permissions: readonly string[];
  readonly oidcScopes: readonly string[];
  readonly offline: boolean;
  /** Every granted scope, in the order the token lists them. */
  readonly scopes: readonly string[];
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/**
 * Issues the access token (and ID and refresh tokens when asked for and allowed) for a user: the scope
 * decision, then the tokens, then one transaction that persists the refresh token, the rotation and the consent.
 * @throws AccessDenied / UnauthorizedClient when the policy refuses; InvalidGrant when a concurrent exchange
 * of the same refresh token won (its family is revoked).
 */
export async function issueUserTokens(input: UserTokenInput, deps: GrantDeps): Promise<TokenResponse> {
  const decided = await decideUserAccess(input, deps);
  // Refresh tokens never travel in the front channel (Auth0: none in the implicit grant).
  const decision =
    input.context?.frontChannel === true && decided.offline
      ? { ...decided, offline: false, scopes: decided.scopes.filter((s) => s !== 'offline_access') }
      : decided;
  const { response, writes } = await buildUserTokens(input, decision, deps);
  if ((await deps.saveIssuance(writes)) === 'raced') {
    // Two requests raced with the same rotating token: the loser is a reuse.
    const family = input.refresh?.familyId;
    if (family !== undefined) await deps.revokeRefreshFamily(family, deps.nowSeconds(), 'reuse_race');
    throw new InvalidGrant(
      'Unknown or invalid refresh token.',
      `reuse_race: refresh token ${input.refresh?.id ?? ''} was exchanged by two requests at once`,
    );
  }
  return response;
}

/**
 * The user-delegated policy of seed 002 for this request: client grants, RBAC and the API's policy.
 * @throws AccessDenied / UnauthorizedClient when the policy refuses.
 */
export async function decideUserAccess(input: UserTokenInput, deps: GrantDeps): Promise<UserAccessDecision> {
  const { client, user, requested } = input;
  const oidcRequested = (requested ?? []).filter((s) => OIDC.has(s));
  const apiRequested = requested?.filter((s) => !OIDC.has(s));

  const api = input.audience === undefined ? undefined : await deps.findApi(input.audience);
  if (input.audience !== undefined && !api)
    throw new AccessDenied(`Service not enabled within domain: ${input.audience}`);
  const consented = await storedConsent(input, api?.identifier ?? `${deps.issuer}userinfo`, deps);

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
      ...(consented ? { consentedScopes: consented } : {}),
    });
    if (!decision.allowed) throw refusal(decision.reason, client, api);
    // The consent page's question comes before any token request: the proof is checked at the token endpoint.
    if (input.beforeConsent !== true) assertApiProofOfPossession(api, client, input.context?.jkt);
    // Seed 003: a user's token for the Management API never carries any-user scopes.
    const cap = api.identifier === managementAudience(deps.issuer) ? CURRENT_USER : undefined;
    apiScopes = cap ? decision.scopes.filter((s) => cap.has(s)) : decision.scopes;
    permissions = cap ? decision.permissions.filter((s) => cap.has(s)) : decision.permissions;
  }

  const wantsOffline = requested?.includes('offline_access') === true;
  const offline =
    wantsOffline && client.grantTypes.includes('refresh_token') && (api ? api.allowOfflineAccess : true);
  const oidcScopes = OIDC_SCOPES.filter(
    (s) => oidcRequested.includes(s) && (s === 'openid' || !consented || consented.includes(s)),
  );
  return {
    target: api ?? userinfoApi(`${deps.issuer}userinfo`, client.tenantId),
    isApi: api !== undefined,
    apiScopes,
    permissions,
    oidcScopes,
    offline,
    scopes: [...oidcScopes, ...apiScopes, ...(offline ? ['offline_access'] : [])],
  };
}

/**
 * Seed 002: a third-party application's tokens carry only what the user consented to on the consent page (the
 * stored grant for this client and audience; none stored means nothing beyond `openid`). The password grant is
 * the exception: the user hands their credentials to the application, which is their consent, recorded as the
 * tokens are issued (`writes.consent`). Undefined when consent does not narrow this request.
 */
async function storedConsent(
  input: UserTokenInput,
  audience: string,
  deps: GrantDeps,
): Promise<readonly string[] | undefined> {
  if (input.client.isFirstParty || input.gty === 'password' || input.beforeConsent === true) return undefined;
  const found = await deps.findConsent(input.user.userId, input.client.clientId, audience);
  return found?.scope ?? [];
}

/**
 * Signs the tokens the decision allows and lists the writes that must land together for them to be valid.
 * Nothing is stored here.
 */
async function buildUserTokens(
  input: UserTokenInput,
  decision: UserAccessDecision,
  deps: GrantDeps,
): Promise<{ response: TokenResponse; writes: IssuanceWrites }> {
  const { client, user, context = {} } = input;
  const now = deps.nowSeconds();
  const openid = decision.oidcScopes.includes('openid');
  const access = buildAccessToken({
    issuer: deps.issuer,
    api: decision.target,
    clientId: client.clientId,
    subject: user.userId,
    extraAudiences: decision.isApi && openid ? [`${deps.issuer}userinfo`] : [],
    scopes: decision.scopes,
    permissions: decision.permissions,
    gty: input.gty,
    nowSeconds: now,
    jti: deps.newJti(),
    ...(context.jkt !== undefined ? { jkt: context.jkt } : {}),
    ...(context.frontChannel === true ? { lifetime: decision.target.tokenLifetimeForWeb } : {}),
    ...(context.amr?.includes('mfa') === true && context.authTime !== undefined
      ? { mfa: { amr: context.amr, authTime: context.authTime } }
      : {}),
  });
  const wantsIdToken = openid || context.idToken === true;
  // Signatures run on the thread pool: an ID token that does not hash the access token is signed beside it.
  const idTokenBeside =
    wantsIdToken && context.atHash !== true
      ? signIdToken(input, decision.oidcScopes, undefined, now, deps)
      : undefined;
  const signed = await deps.signer.sign(access.payload, access.sign);
  const encryption = decision.isApi ? tokenEncryptionOf(decision.target.extra) : undefined;
  const accessToken = encryption ? await encryptAccessToken(signed, encryption) : signed;
  const response: { -readonly [K in keyof TokenResponse]: TokenResponse[K] } = {
    access_token: accessToken,
    expires_in: access.expiresIn,
    token_type: context.jkt !== undefined ? 'DPoP' : 'Bearer',
  };
  if (wantsIdToken) {
    response.id_token = await (idTokenBeside ??
      signIdToken(input, decision.oidcScopes, accessToken, now, deps));
  }
  const writes: { -readonly [K in keyof IssuanceWrites]: IssuanceWrites[K] } = {};
  const policy = refreshPolicy(client);
  const presented = input.refresh;
  // Auth0: a non-rotating token exchanged once its client rotates is replaced by a rotating one, as are a
  // public client's older tokens (RFC 9700 §4.14.2).
  const rotates = presented !== undefined && (presented.rotating || policy.rotating);
  if (presented && rotates && presented.rotatedAt === undefined)
    writes.rotated = { id: presented.id, at: now };
  if (presented && !rotates) {
    const idleExpiresAt = policy.idleLifetime === undefined ? undefined : now + policy.idleLifetime;
    writes.touched = { id: presented.id, at: now, idleExpiresAt, from: clipped(input.from) };
  }
  // A non-rotating exchange keeps its refresh token; every other offline grant gets a new one.
  if (decision.offline && (presented === undefined || rotates)) {
    const token = randomBytes(48).toString('base64url');
    writes.refreshToken = refreshRecord(input, decision, hashRefreshToken(token), policy, now, deps);
    response.refresh_token = token;
  }
  if (decision.scopes.length > 0) response.scope = decision.scopes.join(' ');
  if (decision.isApi && decision.apiScopes.length > 0) {
    const at = new Date(now * 1000).toISOString();
    writes.consent = {
      id: deps.newId('cgr'),
      userId: user.userId,
      clientId: client.clientId,
      audience: decision.target.identifier,
      scope: decision.apiScopes,
      createdAt: at,
      updatedAt: at,
    } satisfies Consent;
  }
  return { response, writes };
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
  input: UserTokenInput,
  oidc: readonly string[],
  accessToken: string | undefined,
  now: number,
  deps: GrantDeps,
): Promise<string> {
  const { client, user, context = {} } = input;
  const jwt =
    (client.settings['jwt_configuration'] as
      { alg?: IdTokenAlg; lifetime_in_seconds?: number } | undefined) ?? {};
  const alg = jwt.alg ?? 'RS256';
  const idToken = buildIdToken({
    issuer: deps.issuer,
    clientId: client.clientId,
    user,
    scopes: oidc,
    nowSeconds: now,
    lifetime: jwt.lifetime_in_seconds ?? 36_000,
    alg,
    ...(context.nonce !== undefined ? { nonce: context.nonce } : {}),
    ...(context.authTime !== undefined ? { authTime: context.authTime } : {}),
    ...(context.sid !== undefined ? { sid: context.sid } : {}),
    ...(context.amr !== undefined ? { amr: context.amr } : {}),
    ...(context.acr !== undefined ? { acr: context.acr } : {}),
    ...(context.atHash === true && accessToken !== undefined ? { accessToken } : {}),
    ...(context.code !== undefined ? { code: context.code } : {}),
  });
  return deps.signer.sign(idToken, {
    alg,
    typ: 'JWT',
    ...(alg === 'HS256' ? { secret: client.clientSecret } : {}),
  });
}

/** User agents are kept to this length on a refresh token's device. */
const MAX_USER_AGENT = 512;

function clipped(from: RequestOrigin): RequestOrigin {
  return { ip: from.ip, userAgent: from.userAgent?.slice(0, MAX_USER_AGENT) };
}

/**
 * A rotated token stays in its family and keeps the family's absolute expiry and first device (Auth0: the
 * lifetime is counted from the grant and does not extend when tokens rotate).
 */
function refreshRecord(
  input: UserTokenInput,
  decision: UserAccessDecision,
  tokenHash: string,
  policy: RefreshPolicy,
  now: number,
  deps: GrantDeps,
): RefreshTokenRecord {
  const { client, user, refresh: presented } = input;
  const from = clipped(input.from);
  return {
    id: deps.newId('rt'),
    tokenHash,
    familyId: presented?.familyId ?? input.context?.refreshFamilyId ?? deps.newId('rtf'),
    userId: user.userId,
    clientId: client.clientId,
    audience: decision.target.identifier,
    scope: decision.scopes,
    rotating: policy.rotating,
    createdAt: now,
    expiresAt: presented
      ? presented.expiresAt
      : policy.absoluteLifetime === undefined
        ? undefined
        : now + policy.absoluteLifetime,
    idleExpiresAt: policy.idleLifetime === undefined ? undefined : now + policy.idleLifetime,
    lastUsedAt: undefined,
    rotatedAt: undefined,
    revokedAt: undefined,
    revokedReason: undefined,
    // RFC 9449 §5: a public client's refresh token is bound to its DPoP key (a confidential one authenticates).
    ...(input.context?.jkt !== undefined && isPublicClient(client) ? { jkt: input.context.jkt } : {}),
    // A rotated token keeps its family's sign-in methods; a new family takes the sign-in's.
    ...amrOf(presented?.amr ?? input.context?.amr),
    device: {
      initialIp: presented ? presented.device.initialIp : from.ip,
      initialUserAgent: presented ? presented.device.initialUserAgent : from.userAgent,
      lastIp: from.ip,
      lastUserAgent: from.userAgent,
    },
  };
}

function amrOf(amr: readonly string[] | undefined): { amr?: readonly string[] } {
  return amr === undefined ? {} : { amr };
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
