import { constants, createHmac, sign, type KeyObject, type SignKeyObjectInput } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { Keystore } from './keystore.js';

export type JwtAlg = 'RS256' | 'RS512' | 'PS256' | 'HS256';

export interface SignOptions {
  readonly alg: JwtAlg;
  readonly typ: 'JWT' | 'at+jwt';
  /** HS256 only: the shared secret (resource server `signing_secret`, client secret for ID tokens). */
  readonly secret?: string;
}

export interface JwtSigner {
  /** @throws Error when HS256 is asked for without a secret. */
  sign(payload: JWTPayload, options: SignOptions): Promise<string>;
}

const RSA_HASH = { RS256: 'sha256', RS512: 'sha512', PS256: 'sha256' } as const;

const base64url = (text: string) => Buffer.from(text).toString('base64url');

/** node:crypto's sign on libuv's thread pool: the RSA work stays off the event loop. */
function signOnPool(alg: keyof typeof RSA_HASH, input: string, key: KeyObject): Promise<Buffer> {
  // RFC 7518 §3.5: PS256 uses MGF1 with SHA-256 and a salt as long as the hash.
  const keyInput: KeyObject | SignKeyObjectInput =
    alg === 'PS256' ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : key;
  return new Promise((resolve, reject) => {
    sign(RSA_HASH[alg], Buffer.from(input), keyInput, (error, signature) => {
      if (error) reject(error);
      else resolve(signature);
    });
  });
}

/**
 * Signs compact JWS (RFC 7515 §7.1) with the tenant's current key (asymmetric algs) or the given shared secret
 * (HS256). Written on node:crypto rather than jose's sign, which goes through WebCrypto: its per-call
 * algorithm normalisation and copies cost a fifth of a signature on the token endpoint's hot path. Only our
 * own claims are encoded here; every verification still goes through jose.
 */
export function createJwtSigner(keystore: Keystore): JwtSigner {
  const headers = new Map<string, string>();
  const encodedHeader = (alg: JwtAlg, typ: string, kid: string | undefined): string => {
    const cacheKey = `${alg} ${typ} ${kid ?? ''}`;
    let encoded = headers.get(cacheKey);
    if (encoded === undefined) {
      encoded = base64url(JSON.stringify(kid === undefined ? { alg, typ } : { alg, typ, kid }));
      // Keys rotate rarely; a handful of headers is all there will ever be.
      if (headers.size > 64) headers.clear();
      headers.set(cacheKey, encoded);
    }
    return encoded;
  };
  return {
    async sign(payload, { alg, typ, secret }) {
      const body = base64url(JSON.stringify(payload));
      if (alg === 'HS256') {
        if (secret === undefined) throw new Error('HS256 needs a secret');
        const input = `${encodedHeader(alg, typ, undefined)}.${body}`;
        return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
      }
      const { kid, privateKey } = keystore.signingKey();
      const input = `${encodedHeader(alg, typ, kid)}.${body}`;
      return `${input}.${(await signOnPool(alg, input, privateKey)).toString('base64url')}`;
    },
  };
}
