import { createPublicKey } from 'node:crypto';
import { decodeJwt, errors, jwtVerify, type JWTPayload } from 'jose';
import type { Client, ClientCredential } from '../../domain/client.js';
import { InvalidClient } from '../../errors/oauth.js';
import type { ClientAuthDeps } from './types.js';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Assertions valid for longer than this are refused: they are meant to be short-lived. */
const MAX_LIFETIME_SECONDS = 3600;

/** The client id an assertion claims to come from (its `sub`), before verification. */
export function assertionClientId(assertion: string): string {
  try {
    const claims = decodeJwt(assertion);
    if (typeof claims.sub !== 'string' || claims.sub === '') throw new Error('no sub');
    return claims.sub;
  } catch {
    throw new InvalidClient('Invalid client_assertion: not a JWT with a sub claim');
  }
}

/**
 * RFC 7523 §3 client authentication with a key registered on the client.
 * @throws InvalidClient when no registered key verifies the assertion or a claim is wrong.
 */
export async function verifyClientAssertion(
  client: Client,
  assertion: string,
  deps: ClientAuthDeps,
): Promise<void> {
  if (client.privateKeyJwtCredentialIds.length === 0) {
    throw new InvalidClient('private_key_jwt is not enabled for this client');
  }
  const enabled = new Set(client.privateKeyJwtCredentialIds);
  const credentials = (await deps.listCredentials(client.clientId)).filter((c) => enabled.has(c.id));
  const now = deps.nowSeconds();
  for (const credential of credentials) {
    if (credential.expiresAt !== undefined && Date.parse(credential.expiresAt) / 1000 <= now) continue;
    const payload = await verifyWith(credential, assertion, client.clientId, deps.issuer, now);
    if (payload === undefined) continue;
    const exp = Number(payload.exp);
    if (exp - now > MAX_LIFETIME_SECONDS) throw new InvalidClient('client_assertion lives too long');
    // Storage failures propagate (503), they are not an authentication failure.
    if (!(await deps.markJtiUsed(client.clientId, String(payload.jti), exp))) {
      throw new InvalidClient('client_assertion jti has already been used');
    }
    return;
  }
  throw new InvalidClient(
    'Invalid client_assertion',
    `no enabled credential verified an assertion for ${client.clientId}`,
  );
}

/** The verified claims, or undefined when this credential does not verify the assertion. */
async function verifyWith(
  credential: ClientCredential,
  assertion: string,
  clientId: string,
  issuer: string,
  now: number,
): Promise<JWTPayload | undefined> {
  try {
    const { payload } = await jwtVerify(assertion, createPublicKey(credential.pem), {
      // The key is registered for one algorithm; an assertion signed otherwise is refused.
      algorithms: [credential.alg],
      issuer: clientId,
      subject: clientId,
      // Auth0 compat: node-auth0 sets aud to the issuer; RFC 7523 also allows the token endpoint URL.
      audience: [issuer, `${issuer}oauth/token`],
      currentDate: new Date(now * 1000),
      requiredClaims: ['exp', 'jti'],
    });
    return payload;
  } catch (error) {
    if (error instanceof errors.JOSEError) return undefined;
    throw error;
  }
}
