import {
  generateRegistrationOptions,
  verifyRegistrationResponse,
  type AuthenticatorTransport,
  type PublicKeyCredentialCreationOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Passkey } from '../domain/passkey.js';
import { randomAlphanumeric } from '../lib/ids.js';

/** EdDSA, ES256, RS256: what authenticators offer; ML-DSA is left out until browsers ship it. */
export const PASSKEY_ALGORITHMS = [-8, -7, -257];

/** What a registration response must match: the ceremony's challenge, where it ran, and how. */
export interface RegistrationCheck {
  readonly challenge: string;
  /** Origins the browser may report in clientDataJSON. */
  readonly origins: readonly string[];
  readonly rpId: string;
  readonly requireUserVerification: boolean;
}

/** What a passkey's creation options say: for whom, for which relying party, and which passkeys to leave out. */
export interface CreationRequest {
  readonly rpId: string;
  readonly rpName: string;
  /** The WebAuthn user handle (`user.id`), raw bytes. */
  readonly userHandle: Uint8Array<ArrayBuffer>;
  readonly userName: string;
  readonly userDisplayName: string;
  readonly timeoutMs: number;
  readonly userVerification: 'required' | 'preferred';
  /** Credentials the authenticator must not enrol again (the user's own passkeys). */
  readonly exclude?: readonly Pick<Passkey, 'credentialId' | 'transports'>[];
}

/**
 * Creation options for a discoverable credential (attestation `none`, the supported algorithms): the one
 * shape behind My Account enrolment, native sign-up and the login page's passkey offer.
 */
export function passkeyCreationOptions(
  request: CreationRequest,
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: request.rpName,
    rpID: request.rpId,
    userName: request.userName,
    userDisplayName: request.userDisplayName,
    userID: request.userHandle,
    timeout: request.timeoutMs,
    attestationType: 'none',
    authenticatorSelection: { residentKey: 'required', userVerification: request.userVerification },
    excludeCredentials: (request.exclude ?? []).map((p) => ({
      id: p.credentialId,
      transports: p.transports as AuthenticatorTransport[],
    })),
    supportedAlgorithmIDs: PASSKEY_ALGORITHMS,
  });
}

/** The response did not verify; `message` says why, for the surface's own error. */
export class RegistrationRefused extends Error {}

/** A verified new credential, as a Passkey stores it (the caller adds the owner and how it was enrolled). */
export type NewCredential = Pick<
  Passkey,
  'id' | 'credentialId' | 'publicKey' | 'counter' | 'transports' | 'deviceType' | 'backedUp' | 'aaguid'
>;

/**
 * Verifies a WebAuthn registration response with @simplewebauthn/server (attestation `none` accepted): the one
 * check behind My Account enrolment and native passkey sign-up.
 * @throws RegistrationRefused
 */
export async function verifyPasskeyRegistration(
  response: unknown,
  check: RegistrationCheck,
): Promise<NewCredential> {
  let info;
  try {
    const result = await verifyRegistrationResponse({
      response: response as RegistrationResponseJSON,
      expectedChallenge: check.challenge,
      expectedOrigin: [...check.origins],
      expectedRPID: check.rpId,
      expectedType: 'webauthn.create',
      requireUserVerification: check.requireUserVerification,
      supportedAlgorithmIDs: PASSKEY_ALGORITHMS,
    });
    info = result.verified ? result.registrationInfo : undefined;
  } catch (error) {
    throw new RegistrationRefused(error instanceof Error ? error.message : 'invalid response');
  }
  // verified:false comes without a reason.
  if (!info) throw new RegistrationRefused('the attestation is not valid');
  return {
    id: `passkey|dev_${randomAlphanumeric(20)}`,
    credentialId: info.credential.id,
    publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
    counter: info.credential.counter,
    transports: info.credential.transports ?? [],
    deviceType: info.credentialDeviceType,
    backedUp: info.credentialBackedUp,
    aaguid: info.aaguid,
  };
}
