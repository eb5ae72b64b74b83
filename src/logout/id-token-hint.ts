import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { KeyObject } from 'node:crypto';
import type { Client } from '../domain/client.js';
import type { Deps } from '../server/deps.js';

/** What a verified `id_token_hint` tells the logout endpoint. */
export interface IdTokenHint {
  readonly client: Client;
  readonly sub: string;
  /** The session the token was issued in, when it says. */
  readonly sid: string | undefined;
}

const ASYMMETRIC = new Set(['RS256', 'RS512', 'PS256']);

/**
 * Verifies an ID token this tenant issued (OIDC RP-Initiated Logout 1.0 §2): its issuer, its signature (the
 * tenant's keys, or the client's secret for HS256) and that its audience is one of our clients. An expired
 * token is accepted, as §2 allows: a hint outlives the token's use for sign-in.
 * @returns undefined when the token is malformed, forged, of another issuer or for an unknown client.
 */
export async function verifyIdTokenHint(token: string, deps: Deps): Promise<IdTokenHint | undefined> {
  let alg: string | undefined;
  let kid: string | undefined;
  let unverified: JWTPayload;
  try {
    ({ alg, kid } = decodeProtectedHeader(token));
    unverified = decodeJwt(token);
  } catch {
    return undefined;
  }
  const clientId = audienceOf(unverified);
  const client = clientId === undefined ? undefined : await deps.lookups.client(clientId);
  if (!client || alg === undefined) return undefined;
  const key = await keyFor(alg, kid, client, deps);
  if (key === undefined) return undefined;

  const expected = { issuer: deps.config.issuer, audience: client.clientId, algorithms: [alg] };
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, key, {
      ...expected,
      currentDate: new Date(deps.clock.now()),
      requiredClaims: ['sub'],
    }));
  } catch (error) {
    // The signature was checked before the claims; the other claims are checked here again.
    if (!(error instanceof errors.JWTExpired)) return undefined;
    payload = error.payload;
    if (payload.iss !== expected.issuer || audienceOf(payload) !== client.clientId) return undefined;
  }
  if (typeof payload.sub !== 'string') return undefined;
  return { client, sub: payload.sub, sid: typeof payload['sid'] === 'string' ? payload['sid'] : undefined };
}

/** The one client an ID token is for: `aud` as a string, or a one-element list, or `azp` of a longer list. */
function audienceOf(payload: JWTPayload): string | undefined {
  const { aud } = payload;
  if (typeof aud === 'string') return aud;
  if (Array.isArray(aud) && aud.length === 1) return aud[0];
  return Array.isArray(aud) && typeof payload['azp'] === 'string' && aud.includes(payload['azp'])
    ? payload['azp']
    : undefined;
}

async function keyFor(
  alg: string,
  kid: string | undefined,
  client: Client,
  deps: Deps,
): Promise<KeyObject | Uint8Array | undefined> {
  if (alg === 'HS256') {
    // Only a client whose ID tokens are HS256: its secret must never verify a token it was not issued with.
    const configured = (client.settings['jwt_configuration'] as { alg?: unknown } | undefined)?.alg;
    return configured === 'HS256' ? new TextEncoder().encode(client.clientSecret) : undefined;
  }
  if (!ASYMMETRIC.has(alg) || kid === undefined) return undefined;
  return deps.keystore.findPublicKey(kid);
}
