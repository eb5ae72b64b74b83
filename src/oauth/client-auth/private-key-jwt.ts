import { createPublicKey } from 'node:crypto';
import { decodeJwt, errors, jwtVerify, type JWTPayload } from 'jose';
import type { Client, ClientCredential } from '../../domain/client.js';
import { InvalidClient } from '../../errors/oauth.js';
import type { ClientAuthDeps } from './types.js';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Assertions valid for longer than this are refused: they are meant to be short-lived. */
const MAX_LIFETIME_SECONDS = 3600;
/** Clock difference tolerated between the client and this server, for `iat`, `nbf` and `exp`. */
export const ASSERTION_LEEWAY_SECONDS = 60;
/** A `jti` is remembered until its assertion expires: bound what one assertion can make the store hold. */
const MAX_JTI_LENGTH = 256;

/** Every failure reads the same to the caller; `detail` (logged only) says which check failed. */
const failed = (detail: string) =>
  new InvalidClient('Client authentication failed', `private_key_jwt: ${detail}`);

/** The client id an assertion claims to come from (its `sub`), before verification. */
export function assertionClientId(assertion: string): string {
  try {
    const claims = decodeJwt(assertion);
    if (typeof claims.sub !== 'string' || claims.sub === '') throw new Error('no sub');
    return claims.sub;
  } catch {
    throw failed('client_assertion is not a JWT with a sub claim');
  }
}

/**
 * RFC 7523 §3 client authentication with a key registered on the client, under draft-ietf-oauth-rfc7523bis:
 * `aud` is this server's issuer identifier as a single string, `jti` a string used once, `iat` and `nbf` not
 * in the future (beyond a small leeway).
 * @throws InvalidClient "Client authentication failed" for every failure, the reason in its detail.
 */
export async function verifyClientAssertion(
  client: Client,
  assertion: string,
  deps: ClientAuthDeps,
): Promise<void> {
  if (client.privateKeyJwtCredentialIds.length === 0) {
    throw failed(`not enabled for ${client.clientId}`);
  }
  const enabled = new Set(client.privateKeyJwtCredentialIds);
  const credentials = (await deps.listCredentials(client.clientId)).filter((c) => enabled.has(c.id));
  const now = deps.nowSeconds();
  for (const credential of credentials) {
    if (credential.expiresAt !== undefined && Date.parse(credential.expiresAt) / 1000 <= now) continue;
    const verified = await verifyWith(credential, assertion, client.clientId, now);
    if (verified === undefined) continue;
    if ('problem' in verified) throw failed(`${client.clientId}: ${verified.problem}`);
    const { payload } = verified;
    const problem = claimProblem(payload, deps.issuer, now);
    if (problem !== undefined) throw failed(`${client.clientId}: ${problem}`);
    const exp = Number(payload.exp);
    // Remembered as long as the leeway lets the assertion be accepted. Storage failures propagate (503).
    if (!(await deps.markJtiUsed(client.clientId, String(payload.jti), exp + ASSERTION_LEEWAY_SECONDS))) {
      throw failed(`${client.clientId}: jti has already been used`);
    }
    return;
  }
  throw failed(`no enabled credential of ${client.clientId} verified the assertion`);
}

/** What is wrong with the verified assertion's claims, if anything. */
function claimProblem(payload: JWTPayload, issuer: string, now: number): string | undefined {
  // draft-ietf-oauth-rfc7523bis §2: the issuer identifier as the sole audience, a JSON string, compared
  // exactly. The token endpoint URL is no longer accepted: that is the confusion the update closes.
  if (typeof payload.aud !== 'string' || payload.aud !== issuer) {
    return 'aud must be the issuer identifier as a single string';
  }
  // RFC 7519 §4.1.7 makes jti a string; 5 and "5" must not be two different assertions.
  if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > MAX_JTI_LENGTH) {
    return `jti must be a non-empty string of at most ${String(MAX_JTI_LENGTH)} characters`;
  }
  if (payload.iat !== undefined && payload.iat > now + ASSERTION_LEEWAY_SECONDS) {
    return 'iat is in the future';
  }
  if (Number(payload.exp) - now > MAX_LIFETIME_SECONDS) return 'the assertion lives too long';
  return undefined;
}

/**
 * The claims the key verified (issuer, subject, exp and nbf checked), what is wrong with them once the
 * signature verified, or undefined when this key does not verify the signature.
 */
async function verifyWith(
  credential: ClientCredential,
  assertion: string,
  clientId: string,
  now: number,
): Promise<{ payload: JWTPayload } | { problem: string } | undefined> {
  try {
    const { payload } = await jwtVerify(assertion, createPublicKey(credential.pem), {
      // The key is registered for one algorithm; an assertion signed otherwise is refused.
      algorithms: [credential.alg],
      issuer: clientId,
      subject: clientId,
      currentDate: new Date(now * 1000),
      clockTolerance: ASSERTION_LEEWAY_SECONDS,
      requiredClaims: ['exp', 'jti'],
    });
    return { payload };
  } catch (error) {
    // jose checks claims only after the signature verified.
    if (error instanceof errors.JWTClaimValidationFailed || error instanceof errors.JWTExpired) {
      return { problem: `${error.claim} ${error.reason}` };
    }
    if (error instanceof errors.JOSEError) return undefined;
    throw error;
  }
}
