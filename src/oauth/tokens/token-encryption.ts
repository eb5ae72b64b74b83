import { createPublicKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, CompactEncrypt, exportJWK } from 'jose';
import { OAuthError } from '../../errors/oauth.js';

/** Key-management algorithms Auth0 offers for `token_encryption.encryption_key.alg`. */
export const TOKEN_ENCRYPTION_ALGS = ['RSA-OAEP-256', 'RSA-OAEP-384', 'RSA-OAEP-512'] as const;
export type TokenEncryptionAlg = (typeof TOKEN_ENCRYPTION_ALGS)[number];

/** A resource server's `token_encryption` as stored: Auth0's shape, with the PEM kept to encrypt with. */
export interface TokenEncryption {
  readonly format: 'compact-nested-jwe';
  readonly encryption_key: {
    readonly name?: string;
    readonly alg: TokenEncryptionAlg;
    readonly kid?: string;
    readonly pem: string;
    readonly thumbprint_sha256?: string;
  };
}

/** A PEM that cannot encrypt access tokens; the message says why, for the caller that sent it. */
export class EncryptionKeyError extends Error {}

const MIN_RSA_BITS = 2048;

/**
 * Reads the public key (or certificate) an API registers to receive encrypted access tokens.
 * @returns the key and its RFC 7638 SHA-256 thumbprint (Auth0's `thumbprint_sha256`).
 * @throws EncryptionKeyError for a private key, a non-RSA key, a key under 2048 bits or text that is no PEM.
 */
export async function readEncryptionKey(pem: string): Promise<{ key: KeyObject; thumbprint: string }> {
  // createPublicKey derives a public key from a private one; a private key sent here has leaked already.
  if (pem.includes('PRIVATE KEY')) throw new EncryptionKeyError('must be a public key or a certificate');
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new EncryptionKeyError('is not a PEM-encoded public key or certificate');
  }
  if (key.asymmetricKeyType !== 'rsa') throw new EncryptionKeyError('must be an RSA key');
  if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) {
    throw new EncryptionKeyError(`must be an RSA key of at least ${String(MIN_RSA_BITS)} bits`);
  }
  return { key, thumbprint: await calculateJwkThumbprint(await exportJWK(key), 'sha256') };
}

/** Parsed keys per stored encryption key object (the resource-server cache hands out the same object). */
const keys = new WeakMap<object, KeyObject>();

/**
 * Wraps a signed access token in a compact JWE for its API (a nested JWT, RFC 7519 §5.2), with A256GCM as
 * Auth0 does and the API's `kid` when it registered one.
 * @throws when the stored key no longer parses (it was checked on write).
 */
export async function encryptAccessToken(jws: string, encryption: TokenEncryption): Promise<string> {
  const { encryption_key: registered } = encryption;
  let key = keys.get(registered);
  if (!key) {
    key = createPublicKey(registered.pem);
    keys.set(registered, key);
  }
  return new CompactEncrypt(new TextEncoder().encode(jws))
    .setProtectedHeader({
      alg: registered.alg,
      enc: 'A256GCM',
      cty: 'JWT',
      ...(registered.kid !== undefined ? { kid: registered.kid } : {}),
    })
    .encrypt(key);
}

/**
 * The API's encryption settings, when it has any.
 * @throws OAuthError server_error for settings stored before keys were checked on write, which cannot
 * encrypt: the token is refused rather than sent readable.
 */
export function tokenEncryptionOf(extra: Readonly<Record<string, unknown>>): TokenEncryption | undefined {
  const value = extra['token_encryption'];
  if (value === undefined || value === null) return undefined;
  const key = (value as { encryption_key?: { alg?: unknown; pem?: unknown } }).encryption_key;
  if (
    (value as { format?: unknown }).format !== 'compact-nested-jwe' ||
    typeof key?.pem !== 'string' ||
    !(TOKEN_ENCRYPTION_ALGS as readonly unknown[]).includes(key.alg)
  ) {
    throw new OAuthError(
      'server_error',
      'The API requires encrypted access tokens but its token_encryption key is not usable; set it again.',
      500,
    );
  }
  return value as TokenEncryption;
}
