// @peculiar/x509 resolves its algorithms through tsyringe, which needs the polyfill loaded first.
import 'reflect-metadata';
import { X509CertificateGenerator } from '@peculiar/x509';
import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, exportPKCS8 } from 'jose';
import type { KeyState, SigningKey } from '../domain/signing-key.js';

const RSA_PARAMS = {
  name: 'RSASSA-PKCS1-v1_5',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
} as const;

/**
 * Generates an RS256 key pair with a self-signed certificate, as Auth0 publishes (x5c, x5t).
 * @throws when the platform cannot generate keys.
 */
export async function generateSigningKey(input: {
  tenantId: string;
  issuer: string;
  state: KeyState;
  now: Date;
}): Promise<SigningKey> {
  const keys = await webcrypto.subtle.generateKey(RSA_PARAMS, true, ['sign', 'verify']);
  const host = new URL(input.issuer).hostname;
  const cert = await X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
        .toString('hex')
        .replace(/^[89a-f]/, '1'),
      name: `CN=${host}`,
      notBefore: input.now,
      notAfter: new Date(input.now.getTime() + 20 * 365 * 24 * 3600 * 1000),
      signingAlgorithm: RSA_PARAMS,
      keys,
    },
    webcrypto,
  );
  const certPem = cert.toString('pem');
  const der = Buffer.from(new X509Certificate(certPem).raw);
  const sha1 = createHash('sha1').update(der).digest();
  const jwk = await exportJWK(keys.publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return {
    tenantId: input.tenantId,
    kid,
    alg: 'RS256',
    state: input.state,
    publicJwk: { kty: 'RSA', n: String(jwk.n), e: String(jwk.e) },
    privateKeyPem: await exportPKCS8(keys.privateKey),
    cert: certPem,
    fingerprint: (sha1.toString('hex').toUpperCase().match(/../g) ?? []).join(':'),
    thumbprint: sha1.toString('hex').toUpperCase(),
    currentSince: input.state === 'current' ? input.now.toISOString() : undefined,
    currentUntil: undefined,
    revokedAt: undefined,
    createdAt: input.now.toISOString(),
  };
}

/** base64 DER of a PEM certificate, for `x5c`. */
export function certDerBase64(pem: string): string {
  return Buffer.from(new X509Certificate(pem).raw).toString('base64');
}

/** RFC 7515 x5t: base64url SHA-1 of the DER certificate. */
export function certX5t(pem: string): string {
  return createHash('sha1').update(new X509Certificate(pem).raw).digest('base64url');
}
