import { randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { accessTokenHash } from '../../src/oauth/dpop/verify-proof.js';

/** A client's DPoP key, and proofs made with it by jose as a client library would. */
export interface DpopKey {
  readonly jwk: JWK;
  readonly jkt: string;
  proof(
    method: string,
    url: string,
    options?: { accessToken?: string; nonce?: string; iat?: number; claims?: Record<string, unknown> },
  ): Promise<string>;
}

export async function dpopKey(nowSeconds: () => number): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  const jkt = await calculateJwkThumbprint(jwk, 'sha256');
  return {
    jwk,
    jkt,
    proof: (method, url, options = {}) =>
      new SignJWT({
        jti: randomUUID(),
        htm: method,
        htu: url,
        iat: options.iat ?? nowSeconds(),
        ...(options.accessToken !== undefined ? { ath: accessTokenHash(options.accessToken) } : {}),
        ...(options.nonce !== undefined ? { nonce: options.nonce } : {}),
        ...options.claims,
      })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
        .sign(privateKey),
  };
}
