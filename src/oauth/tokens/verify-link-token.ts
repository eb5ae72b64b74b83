import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { KeyObject } from 'node:crypto';

/** Why a `link_with` token was refused; the message names what to fix. */
export class LinkTokenRefused extends Error {}

export interface LinkTokenInput {
  readonly token: string;
  readonly issuer: string;
  /** The tenant's published key of this id, if any. */
  readonly publicKey: (kid: string) => Promise<KeyObject | undefined>;
  /** The calling access token's `azp`: the ID token must have been issued to the same application. */
  readonly audience: string | undefined;
  readonly nowSeconds: number;
}

/**
 * Verifies the secondary account's ID token of an account link (spec 4.5): RS256, signed by this tenant,
 * issued by it, unexpired, and its `aud` the calling application.
 * @returns the secondary account's user id (`sub`).
 * @throws LinkTokenRefused
 */
export async function verifyLinkToken(input: LinkTokenInput): Promise<string> {
  let header: { alg?: string | undefined; kid?: string | undefined };
  try {
    header = decodeProtectedHeader(input.token);
  } catch {
    throw new LinkTokenRefused('link_with is not a JSON Web Token.');
  }
  if (header.alg !== 'RS256') throw new LinkTokenRefused('link_with must be an ID token signed with RS256.');
  const key = header.kid === undefined ? undefined : await input.publicKey(header.kid);
  if (!key) throw new LinkTokenRefused("link_with was not signed by one of this tenant's keys.");
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(input.token, key, {
      algorithms: ['RS256'],
      currentDate: new Date(input.nowSeconds * 1000),
      requiredClaims: ['sub', 'exp', 'aud', 'iss'],
    }));
  } catch (error) {
    if (error instanceof errors.JWTExpired) throw new LinkTokenRefused('link_with has expired.');
    if (error instanceof errors.JWTClaimValidationFailed) {
      throw new LinkTokenRefused(`link_with is missing a valid "${error.claim}" claim.`);
    }
    throw new LinkTokenRefused('link_with has an invalid signature.');
  }
  if (payload.iss !== input.issuer)
    throw new LinkTokenRefused(`link_with was not issued by ${input.issuer}.`);
  const aud = payload.aud;
  const audiences = typeof aud === 'string' ? [aud] : (aud ?? []);
  if (input.audience === undefined || audiences.length !== 1 || audiences[0] !== input.audience) {
    throw new LinkTokenRefused(
      "link_with's audience (aud) must be the application the access token was issued to (its azp).",
    );
  }
  if (typeof payload.sub !== 'string' || payload.sub === '') {
    throw new LinkTokenRefused('link_with has no subject (sub).');
  }
  return payload.sub;
}
