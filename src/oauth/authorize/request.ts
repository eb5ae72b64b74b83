import type { Client } from '../../domain/client.js';
import { normalizeOrigin, originAllowed, webOriginPatterns } from '../cors.js';

export type ResponseMode = 'query' | 'fragment' | 'form_post' | 'web_message';
const RESPONSE_MODES = new Set<string>(['query', 'fragment', 'form_post', 'web_message']);

/** One word of `response_type` (OAuth 2.0 Multiple Response Type Encoding Practices §3). */
export type ResponseTypeWord = 'code' | 'token' | 'id_token';
/** The words in one fixed order, whatever order the request used. */
const RESPONSE_TYPE_WORDS: readonly ResponseTypeWord[] = ['code', 'id_token', 'token'];

/** A validated authorization request: everything the login transaction and the code carry forward. */
/** RFC 7638 SHA-256 thumbprint, base64url without padding. */
const JKT = /^[A-Za-z0-9_-]{43}$/;

export interface AuthorizeRequest {
  readonly clientId: string;
  readonly redirectUri: string;
  /** True when the request named the redirect URI (RFC 6749 §4.1.3: the token request must repeat it). */
  readonly redirectUriSent: boolean;
  /** The words of `response_type`, each once, in the order of RESPONSE_TYPE_WORDS. */
  readonly responseType: readonly ResponseTypeWord[];
  readonly responseMode: ResponseMode;
  readonly state: string | undefined;
  readonly nonce: string | undefined;
  readonly scope: string | undefined;
  readonly audience: string | undefined;
  readonly codeChallenge: string | undefined;
  readonly codeChallengeMethod: 'S256' | 'plain' | undefined;
  readonly promptNone: boolean;
  readonly promptLogin: boolean;
  /** prompt=consent: the consent page is shown even to a first-party app or over a stored grant. */
  readonly promptConsent?: boolean;
  readonly maxAge: number | undefined;
  readonly loginHint: string | undefined;
  readonly connection: string | undefined;
  /** Auth0's `screen_hint=signup`: open the sign-up page instead of the login page. */
  readonly screenHint: string | undefined;
  /** RFC 9449 §10: the DPoP key thumbprint the code is bound to; the exchange must prove that key. */
  readonly dpopJkt?: string;
  /** OIDC Core §3.1.2.1 `acr_values`: Auth0's multi-factor policy URI in it forces a second factor (mfa/). */
  readonly acrValues?: string;
}

/** Where an error may be sent back: only once the client and its redirect URI are known to match. */
export interface ReplyTarget {
  readonly redirectUri: string;
  readonly responseMode: ResponseMode;
  readonly state: string | undefined;
}

/** A refusal shown on an error page and never redirected: the redirect URI cannot be trusted. */
export class AuthorizeErrorPage extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** A refusal returned to the client at its (verified) redirect URI, as RFC 6749 §4.1.2.1 says. */
export class AuthorizeRedirectError extends Error {
  constructor(
    readonly code: string,
    readonly description: string,
    readonly target: ReplyTarget,
  ) {
    super(description);
  }
}

/**
 * Longest value of each parameter. Identifiers reuse the token endpoint's caps (params.ts); the rest are far
 * above any real value and keep oversized input out of the transaction, the code and the logs.
 */
export const AUTHORIZE_MAX_LENGTHS: Readonly<Record<string, number>> = {
  client_id: 128,
  redirect_uri: 2048,
  response_type: 64,
  response_mode: 32,
  state: 2048,
  nonce: 512,
  scope: 2048,
  audience: 600,
  code_challenge: 128,
  code_challenge_method: 16,
  prompt: 64,
  max_age: 12,
  login_hint: 320,
  connection: 128,
  screen_hint: 64,
  acr_values: 512,
};

/** RFC 7636 §4.2: 43 to 128 unreserved characters (S256 gives exactly 43). */
const CODE_CHALLENGE = /^[A-Za-z0-9\-._~]{43,128}$/;
const MAX_AGE = /^\d{1,10}$/;
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:']);

/**
 * Validates GET /authorize parameters in the order that decides where a refusal may go: first what makes the
 * redirect URI trustworthy (client, redirect URI, response mode), refused on an error page; then the rest,
 * returned to the client at its redirect URI.
 * @throws AuthorizeErrorPage, AuthorizeRedirectError
 */
export function parseAuthorizeRequest(
  query: Readonly<Record<string, unknown>>,
  client: Client | undefined,
): AuthorizeRequest {
  const get = (name: string): string | undefined => {
    const value = query[name];
    if (value === undefined) return undefined;
    if (Array.isArray(value)) throw new AuthorizeErrorPage('invalid_request', `Duplicate parameter: ${name}`);
    if (typeof value !== 'string')
      throw new AuthorizeErrorPage('invalid_request', `Invalid parameter: ${name}`);
    const max = AUTHORIZE_MAX_LENGTHS[name];
    if (max !== undefined && value.length > max)
      throw new AuthorizeErrorPage('invalid_request', `Invalid parameter: ${name} is too long`);
    return value === '' ? undefined : value;
  };
  for (const name of Object.keys(query)) get(name);

  const clientId = get('client_id');
  if (clientId === undefined)
    throw new AuthorizeErrorPage('invalid_request', 'Missing required parameter: client_id');
  if (!client) throw new AuthorizeErrorPage('invalid_request', 'Unknown client.');
  const mode = get('response_mode');
  if (mode !== undefined && !RESPONSE_MODES.has(mode))
    throw new AuthorizeErrorPage('invalid_request', `Unsupported response_mode: ${mode}`);
  const redirectUri = resolveRedirectUri(get('redirect_uri'), client, mode === 'web_message');
  const rawType = get('response_type');
  const words = rawType === undefined ? undefined : responseTypeWords(rawType);
  // Tokens never travel in the query (Multiple Response Types §5): fragment is the default beside code.
  const frontTokens = words !== undefined && words.some((w) => w !== 'code');
  const defaultMode: ResponseMode = frontTokens ? 'fragment' : 'query';
  const target: ReplyTarget = {
    redirectUri,
    responseMode:
      mode === 'query' && frontTokens ? defaultMode : ((mode as ResponseMode | undefined) ?? defaultMode),
    state: get('state'),
  };
  const refuse = (code: string, description: string) => new AuthorizeRedirectError(code, description, target);

  if (rawType === undefined) throw refuse('invalid_request', 'Missing required parameter: response_type');
  if (words === undefined) throw refuse('unsupported_response_type', `Unsupported response type: ${rawType}`);
  if (mode === 'query' && frontTokens)
    throw refuse('invalid_request', `response_mode=query is not allowed for response_type=${rawType}`);
  if (words.includes('code') && !client.grantTypes.includes('authorization_code'))
    throw refuse('unauthorized_client', "Grant type 'authorization_code' not allowed for the client.");
  if (frontTokens && client.settings['third_party_security_mode'] === 'strict' && !client.isFirstParty)
    throw refuse('unsupported_response_type', `Unsupported response type: ${rawType}`);
  if (frontTokens && !client.grantTypes.includes('implicit'))
    throw refuse('unauthorized_client', "Grant type 'implicit' not allowed for the client.");
  // OIDC Core §3.2.2.1 and §3.3.2.11: an ID token in the front channel needs a nonce. (openid is not
  // required: Auth0's seed-003 request asks for `token id_token` with API scopes only and gets both tokens.)
  if (words.includes('id_token') && get('nonce') === undefined)
    throw refuse('invalid_request', 'Missing required parameter: nonce');

  // PKCE protects a code; a response without one has nothing to bind it to.
  const { codeChallenge, codeChallengeMethod } = words.includes('code')
    ? pkceOf(get, client, refuse)
    : { codeChallenge: undefined, codeChallengeMethod: undefined };
  const prompts = new Set(get('prompt')?.split(' ').filter(Boolean) ?? []);
  if (prompts.has('none') && prompts.size > 1)
    throw refuse('invalid_request', 'prompt=none cannot be combined with other values');
  const dpopJkt = get('dpop_jkt');
  if (dpopJkt !== undefined && !JKT.test(dpopJkt))
    throw refuse('invalid_request', 'Invalid parameter: dpop_jkt must be a base64url SHA-256 JWK thumbprint');
  const acrValues = get('acr_values');
  const maxAgeRaw = get('max_age');
  if (maxAgeRaw !== undefined && !MAX_AGE.test(maxAgeRaw))
    throw refuse('invalid_request', 'Invalid parameter: max_age must be a non-negative integer');

  return {
    clientId: client.clientId,
    redirectUri,
    redirectUriSent: get('redirect_uri') !== undefined,
    responseType: words,
    responseMode: target.responseMode,
    state: target.state,
    nonce: get('nonce'),
    scope: get('scope'),
    audience: get('audience'),
    codeChallenge,
    codeChallengeMethod,
    promptNone: prompts.has('none'),
    promptLogin: prompts.has('login'),
    promptConsent: prompts.has('consent'),
    maxAge: maxAgeRaw === undefined ? undefined : Number(maxAgeRaw),
    loginHint: get('login_hint'),
    connection: get('connection'),
    screenHint: get('screen_hint'),
    ...(dpopJkt !== undefined ? { dpopJkt } : {}),
    ...(acrValues !== undefined ? { acrValues } : {}),
  };
}

/** The client's callbacks, as stored from the Management API. */
export function callbacksOf(client: Client): string[] {
  const callbacks = client.settings['callbacks'];
  return Array.isArray(callbacks) ? callbacks.filter((c): c is string => typeof c === 'string') : [];
}

/**
 * The words of a `response_type` in their fixed order, or undefined when a word is unknown, repeated or
 * missing (the words may come in any order: OAuth 2.0 Multiple Response Type Encoding Practices §3).
 */
export function responseTypeWords(value: string): ResponseTypeWord[] | undefined {
  const words = value.split(' ');
  if (words.some((w) => !(RESPONSE_TYPE_WORDS as readonly string[]).includes(w))) return undefined;
  if (new Set(words).size !== words.length) return undefined;
  return RESPONSE_TYPE_WORDS.filter((w) => words.includes(w));
}

/**
 * Exact string match against the client's callbacks (RFC 9700 §4.1.3); with one callback and none sent, that
 * one, as Auth0 does. A web_message answer goes to the redirect URI's origin, which must be one of the
 * client's Allowed Web Origins: otherwise the page would post the answer to an origin nobody vouched for.
 */
function resolveRedirectUri(sent: string | undefined, client: Client, webMessage: boolean): string {
  const uri = matchCallback(sent, client);
  if (webMessage) {
    const origin = URL.parse(uri)?.origin ?? 'null';
    const normalized = normalizeOrigin(origin);
    if (normalized === undefined || !originAllowed(normalized, webOriginPatterns(client.settings)))
      throw new AuthorizeErrorPage(
        'invalid_request',
        `The redirect_uri origin ${origin} is not in the list of allowed web origins.`,
      );
  }
  return uri;
}

function matchCallback(sent: string | undefined, client: Client): string {
  const callbacks = callbacksOf(client);
  if (sent === undefined) {
    if (callbacks.length === 1 && callbacks[0] !== undefined) return callbacks[0];
    throw new AuthorizeErrorPage('invalid_request', 'Missing required parameter: redirect_uri');
  }
  let scheme: string;
  try {
    scheme = new URL(sent).protocol;
  } catch {
    throw new AuthorizeErrorPage('invalid_request', 'Invalid parameter: redirect_uri is not a URL');
  }
  if (FORBIDDEN_SCHEMES.has(scheme))
    throw new AuthorizeErrorPage('invalid_request', 'Invalid parameter: redirect_uri scheme is not allowed');
  if (!callbacks.includes(sent))
    throw new AuthorizeErrorPage(
      'invalid_request',
      `Callback URL mismatch. ${sent} is not in the list of allowed callback URLs.`,
    );
  return sent;
}

/**
 * RFC 7636 and RFC 9700 §2.1.1: public clients must use PKCE, and only S256; so must Auth0's strict third-party
 * applications (spec 2.4: "PKCE mandatory"), confidential or not.
 */
function pkceOf(
  get: (name: string) => string | undefined,
  client: Client,
  refuse: (code: string, description: string) => AuthorizeRedirectError,
): Pick<AuthorizeRequest, 'codeChallenge' | 'codeChallengeMethod'> {
  const strictThirdParty = !client.isFirstParty && client.settings['third_party_security_mode'] === 'strict';
  const isPublic = client.tokenEndpointAuthMethod === 'none' || strictThirdParty;
  const challenge = get('code_challenge');
  const method = get('code_challenge_method');
  if (challenge === undefined) {
    if (isPublic) throw refuse('invalid_request', 'Missing required parameter: code_challenge');
    if (method !== undefined) throw refuse('invalid_request', 'code_challenge_method without code_challenge');
    return { codeChallenge: undefined, codeChallengeMethod: undefined };
  }
  const resolved = method ?? 'plain';
  if (resolved !== 'S256' && resolved !== 'plain')
    throw refuse('invalid_request', `Unsupported code_challenge_method: ${resolved}`);
  if (resolved === 'plain' && isPublic)
    throw refuse(
      'invalid_request',
      strictThirdParty
        ? 'Third-party applications must use code_challenge_method=S256'
        : 'Public clients must use code_challenge_method=S256',
    );
  if (!CODE_CHALLENGE.test(challenge)) throw refuse('invalid_request', 'Invalid parameter: code_challenge');
  return { codeChallenge: challenge, codeChallengeMethod: resolved };
}
