/** A WebAuthn credential a user enrolled (Auth0's `passkey` authentication method). */
export interface Passkey {
  /** `passkey|dev_…`: the authentication method id. */
  readonly id: string;
  readonly userId: string;
  /** The credential id, base64url. */
  readonly credentialId: string;
  /** The COSE public key, base64url. */
  readonly publicKey: string;
  readonly counter: number;
  readonly transports: readonly string[];
  readonly deviceType: 'singleDevice' | 'multiDevice';
  readonly backedUp: boolean;
  readonly aaguid: string;
  /** The `user.id` of the creation options, base64url. */
  readonly userHandle: string;
  readonly name: string | undefined;
  /** The browser that enrolled it (`User-Agent`), as Auth0 shows it. */
  readonly userAgent: string | undefined;
  /** ISO 8601. */
  readonly createdAt: string;
  readonly lastUsedAt: string | undefined;
}
