import { createHash } from 'node:crypto';
import {
  calculateJwkThumbprint,
  decodeProtectedHeader,
  errors,
  importJWK,
  jwtVerify,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import { LRUCache } from 'lru-cache';

/** RFC 9449 §4.3: asymmetric algorithms only; `none` and the HS* family are never accepted. */
export const DPOP_ALGS = [
  'ES256',
  'ES384',
  'ES512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
  'Ed25519',
] as const;

/** How far a proof's `iat` may be from the server's clock, either way. */
export const DPOP_IAT_WINDOW_SECONDS = 60;

/** JWK members that belong to a private or symmetric key (RFC 7517/7518): a proof's key carries none. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/**
 * Imported proof keys by algorithm and RFC 7638 thumbprint: a client signs every proof with the same key, and
 * importing it costs about as much as checking the signature. The thumbprint names exactly the public key's
 * required members, so one entry stands for one public key; the bound keeps keys sent by anyone small.
 */
const importedKeys = new LRUCache<string, CryptoKey>({ max: 10_000 });

async function proofKey(alg: string, jwk: JWK, jkt: string): Promise<CryptoKey> {
  const cacheKey = `${alg}:${jkt}`;
  const cached = importedKeys.get(cacheKey);
  if (cached) return cached;
  const imported = await importJWK(jwk, alg);
  // importJWK answers a Uint8Array only for symmetric keys, which the checks above already refused.
  if (imported instanceof Uint8Array) throw new errors.JWKInvalid('symmetric key');
  importedKeys.set(cacheKey, imported);
  return imported;
}

/** A protected header that passed the checks below: its algorithm, its key's thumbprint and the imported key. */
interface KnownHeader {
  readonly alg: string;
  readonly jkt: string;
  readonly key: CryptoKey;
}

/**
 * Checked protected headers by their base64url text: a client's proofs all carry the same header (alg, typ,
 * jwk; what changes is in the payload), so a repeat skips decoding, the checks, the thumbprint and the import.
 */
const knownHeaders = new LRUCache<string, KnownHeader>({ max: 10_000 });

/**
 * RFC 9449 §4.3's header checks: `typ`, an asymmetric `alg`, a public `jwk`; then its thumbprint and key.
 * @throws DpopProofError, or jose's / WebCrypto's errors for a key that cannot be used
 */
async function checkedHeader(proof: string): Promise<KnownHeader> {
  const invalid = (message: string) => new DpopProofError('invalid_dpop_proof', message);
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(proof);
  } catch {
    throw invalid('DPoP proof is not a JWS');
  }
  if (header.typ !== 'dpop+jwt') throw invalid('DPoP proof typ must be dpop+jwt');
  if (typeof header.alg !== 'string' || !(DPOP_ALGS as readonly string[]).includes(header.alg)) {
    throw invalid('DPoP proof alg must be an asymmetric algorithm');
  }
  const jwk = header.jwk as JWK | undefined;
  if (jwk === undefined || typeof jwk !== 'object' || Array.isArray(jwk)) {
    throw invalid('DPoP proof must carry its public key in the jwk header');
  }
  if (PRIVATE_MEMBERS.some((member) => member in jwk)) {
    throw invalid('DPoP proof jwk must not contain a private key');
  }
  const jkt = await calculateJwkThumbprint(jwk, 'sha256');
  const known = { alg: header.alg, jkt, key: await proofKey(header.alg, jwk, jkt) };
  knownHeaders.set(proof.slice(0, proof.indexOf('.')), known);
  return known;
}

/** Why a proof was refused: a bad proof, or a good one that lacks the nonce the server demands. */
export type DpopFailure = 'invalid_dpop_proof' | 'use_dpop_nonce';

export class DpopProofError extends Error {
  constructor(
    readonly reason: DpopFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface ProofExpectations {
  /** The HTTP method of the request the proof came with. */
  readonly method: string;
  /** The request's public URL (issuer-based), without query or fragment. */
  readonly url: string;
  readonly nowSeconds: number;
  /** The access token presented with the proof (resource requests): the proof's `ath` must hash it. */
  readonly accessToken?: string;
  /** The key the token or code is bound to: the proof must be signed by it. */
  readonly jkt?: string;
  /** When the server demands a nonce: true when the proof's `nonce` is one the server issued and still accepts. */
  readonly nonce?: (nonce: string | undefined) => boolean;
  readonly iatWindowSeconds?: number;
}

export interface VerifiedProof {
  /** RFC 7638 SHA-256 thumbprint of the proof's key. */
  readonly jkt: string;
  readonly jti: string;
  readonly iat: number;
}

/**
 * Checks a DPoP proof JWT (RFC 9449 §4.3) against the request it came with. Pure: replay of the `jti` is for
 * the caller to check in the one-time store (see replay.ts).
 * @throws DpopProofError
 */
export async function verifyDpopProof(proof: string, expect: ProofExpectations): Promise<VerifiedProof> {
  const invalid = (message: string) => new DpopProofError('invalid_dpop_proof', message);
  let payload: JWTPayload;
  let jkt: string;
  try {
    let known = knownHeaders.get(proof.slice(0, proof.indexOf('.')));
    known ??= await checkedHeader(proof);
    jkt = known.jkt;
    ({ payload } = await jwtVerify(proof, known.key, {
      typ: 'dpop+jwt',
      algorithms: [known.alg],
      currentDate: new Date(expect.nowSeconds * 1000),
    }));
  } catch (error) {
    if (error instanceof DpopProofError) throw error;
    // A malformed jwk, or one that does not fit the alg, fails its thumbprint or import with a TypeError or
    // WebCrypto's DOMException as well as a JOSEError.
    if (error instanceof errors.JOSEError || error instanceof TypeError || error instanceof DOMException) {
      throw invalid('DPoP proof signature or key is invalid');
    }
    throw error;
  }
  if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > 256) {
    throw invalid('DPoP proof jti is missing');
  }
  if (payload['htm'] !== expect.method) throw invalid('DPoP proof htm does not match the request method');
  if (typeof payload['htu'] !== 'string' || !sameUrl(payload['htu'], expect.url)) {
    throw invalid('DPoP proof htu does not match the request URL');
  }
  const iat = payload.iat;
  const window = expect.iatWindowSeconds ?? DPOP_IAT_WINDOW_SECONDS;
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw invalid('DPoP proof iat is missing');
  if (Math.abs(expect.nowSeconds - iat) > window)
    throw invalid('DPoP proof iat is outside the accepted window');
  if (expect.accessToken !== undefined) {
    if (typeof payload['ath'] !== 'string') throw invalid('DPoP proof ath is missing');
    if (payload['ath'] !== accessTokenHash(expect.accessToken)) {
      throw invalid('DPoP proof ath does not match the access token');
    }
  }
  if (expect.jkt !== undefined && jkt !== expect.jkt) {
    throw invalid('DPoP proof key does not match the key the token is bound to');
  }
  if (expect.nonce) {
    const nonce = payload['nonce'];
    if (nonce !== undefined && typeof nonce !== 'string') throw invalid('DPoP proof nonce is invalid');
    if (!expect.nonce(nonce)) {
      throw new DpopProofError('use_dpop_nonce', 'Authorization server requires nonce in DPoP proof');
    }
  }
  return { jkt, jti: payload.jti, iat };
}

/** RFC 9449 §4.2 `ath`: base64url SHA-256 of the ASCII access token. */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

/**
 * RFC 9449 §4.3: `htu` is compared without query and fragment after syntax- and scheme-based normalisation
 * (RFC 3986 §6.2.2, §6.2.3): WHATWG URL parsing lowercases scheme and host, drops default ports and normalises
 * percent-encoding and dot segments.
 */
function sameUrl(htu: string, expected: string): boolean {
  let a: URL;
  let b: URL;
  try {
    a = new URL(htu);
    b = new URL(expected);
  } catch {
    return false;
  }
  const bare = (u: URL) => `${u.protocol}//${u.host}${u.pathname === '' ? '/' : u.pathname}`;
  return bare(a) === bare(b);
}

/** The public URL of a request for `htu`: the issuer's origin and the request path, without query. */
export function publicUrl(issuer: string, requestUrl: string): string {
  const query = requestUrl.indexOf('?');
  const path = query === -1 ? requestUrl : requestUrl.slice(0, query);
  return `${issuer.replace(/\/+$/, '')}${path}`;
}
