import { SignJWT, type JWTPayload } from 'jose';
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

/** Signs with the tenant's current key (asymmetric algs) or the given shared secret (HS256). */
export function createJwtSigner(keystore: Keystore): JwtSigner {
  const encoder = new TextEncoder();
  return {
    async sign(payload, { alg, typ, secret }) {
      const jwt = new SignJWT(payload);
      if (alg === 'HS256') {
        if (secret === undefined) throw new Error('HS256 needs a secret');
        return jwt.setProtectedHeader({ alg, typ }).sign(encoder.encode(secret));
      }
      const { kid, privateKey } = await keystore.signingKey(alg);
      return jwt.setProtectedHeader({ alg, typ, kid }).sign(privateKey);
    },
  };
}
