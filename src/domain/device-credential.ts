/** Auth0's device credential types: public keys are stored as such; refresh tokens are listed from their own rows. */
export type DeviceCredentialType = 'public_key' | 'refresh_token' | 'rotating_refresh_token';

/** A device's public key registered for a user and an application (seed 003). */
export interface DeviceCredential {
  /** `dcr_…`. */
  readonly id: string;
  readonly userId: string;
  readonly clientId: string;
  readonly deviceId: string;
  readonly deviceName: string;
  readonly type: 'public_key';
  /** The base64 public key as the device sent it; returned by nothing. */
  readonly value: string;
  readonly createdAt: string;
}
