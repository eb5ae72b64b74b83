export type KeyState = 'next' | 'current' | 'previous' | 'retired';

export interface SigningKey {
  readonly tenantId: string;
  readonly kid: string;
  readonly alg: 'RS256';
  readonly state: KeyState;
  /** Public JWK (kty, n, e). */
  readonly publicJwk: Readonly<Record<string, string>>;
  /** PKCS#8 PEM, plaintext in memory only; sealed at rest. */
  readonly privateKeyPem: string;
  /** Self-signed X.509 certificate, PEM. */
  readonly cert: string;
  readonly fingerprint: string;
  readonly thumbprint: string;
  readonly currentSince: string | undefined;
  readonly currentUntil: string | undefined;
  readonly revokedAt: string | undefined;
  readonly createdAt: string;
}
