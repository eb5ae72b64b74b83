import { verifyAuthenticationResponse, type AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { Passkey } from '../domain/passkey.js';

/** What an assertion must match: the ceremony's challenge, where it ran, and how. */
export interface AssertionCheck {
  readonly challenge: string;
  /** Origins the browser may report in clientDataJSON. */
  readonly origins: readonly string[];
  readonly rpId: string;
  readonly requireUserVerification: boolean;
  /**
   * Moves the stored counter from `from` to `to` only if it still is `from` (compare-and-set), stamping the
   * use; false when another request moved it first.
   */
  readonly recordUse: (from: number, to: number) => Promise<boolean>;
}

/** The assertion did not verify: `reason` for the caller's logic, `message` for its error. */
export class AssertionRefused extends Error {
  constructor(
    readonly reason: 'user_handle' | 'not_verified' | 'replayed',
    message: string,
  ) {
    super(message);
  }
}

/** The credential id an assertion names (`id`), or undefined when it names none. */
export function assertionCredentialId(response: unknown): string | undefined {
  if (typeof response !== 'object' || response === null) return undefined;
  const id = (response as { id?: unknown }).id;
  return typeof id === 'string' && id !== '' && id.length <= 1024 ? id : undefined;
}

/**
 * Verifies a WebAuthn assertion for a stored passkey with @simplewebauthn/server, the one check behind native
 * passkey sign-in and the hosted login page: the user handle is the passkey's, the signature and client data
 * match the ceremony, and the counter (when the authenticator keeps one) moves forward exactly once.
 * @throws AssertionRefused
 */
export async function verifyPasskeyAssertion(
  response: unknown,
  passkey: Passkey,
  check: AssertionCheck,
): Promise<void> {
  const answer = response as Partial<AuthenticationResponseJSON>;
  // A discoverable credential names its user: it must be the one the passkey was enrolled for.
  if (answer.response?.userHandle !== passkey.userHandle) {
    throw new AssertionRefused('user_handle', 'The user handle does not match the passkey.');
  }
  let info;
  try {
    const result = await verifyAuthenticationResponse({
      response: response as AuthenticationResponseJSON,
      expectedChallenge: check.challenge,
      expectedOrigin: [...check.origins],
      expectedRPID: check.rpId,
      expectedType: 'webauthn.get',
      credential: {
        id: passkey.credentialId,
        publicKey: Buffer.from(passkey.publicKey, 'base64url'),
        counter: passkey.counter,
        transports: [...passkey.transports] as never,
      },
      requireUserVerification: check.requireUserVerification,
    });
    info = result.verified ? result.authenticationInfo : undefined;
  } catch (error) {
    throw new AssertionRefused('not_verified', error instanceof Error ? error.message : 'invalid response');
  }
  if (!info) throw new AssertionRefused('not_verified', 'the signature is not valid');
  // Of two requests replaying one assertion, only the first moves the counter.
  if (!(await check.recordUse(passkey.counter, info.newCounter))) {
    throw new AssertionRefused('replayed', 'The passkey assertion was already used.');
  }
}
