import { generateAuthenticationOptions } from '@simplewebauthn/server';
import type { Connection } from '../domain/connection.js';
import type { User } from '../domain/user.js';
import type { PasskeyOfferStep } from '../oauth/authorize/transaction.js';
import { passkeyUserLabel, relyingParty, tenantDisplayName, userHandleOf } from '../myaccount/service.js';
import { passkeysEnabled } from '../passkeys/native.js';
import type { Deps } from '../server/deps.js';
import { LoginError } from '../users/authenticate.js';
import { assertionOwner, verifyAndRecordUse } from '../passkeys/assertion.js';
import { AssertionRefused, assertionCredentialId } from '../webauthn/authentication.js';
import { passkeyCreationOptions } from '../webauthn/registration.js';
import { field, isRecord, type Opened } from './hosted.js';

/** How long the browser has to answer a login page's passkey request (its challenge lives as long). */
const CEREMONY_SECONDS = 300;
const CHALLENGE_KEY = 'login-passkey:';
/** An assertion is a few hundred bytes; a registration with attestation 'none' a little more. */
export const MAX_PASSKEY_RESPONSE = 8 * 1024;

/** Auth0's `passkey_options.progressive_enrollment_enabled`: offer a passkey after a password sign-in. */
export function progressiveEnrolment(connection: Connection): boolean {
  const options = connection.options['passkey_options'];
  return (
    passkeysEnabled(connection) && isRecord(options) && options['progressive_enrollment_enabled'] === true
  );
}

/** The WebAuthn answer posted in a form field as JSON, or undefined when it is not a JSON object. */
export function postedCredential(
  body: Record<string, unknown>,
  name: string,
): Record<string, unknown> | undefined {
  const raw = field(body, name);
  if (raw === '' || raw.length > MAX_PASSKEY_RESPONSE) return undefined;
  try {
    const value = JSON.parse(raw) as unknown;
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The hosted pages' passkeys: sign-in on the login page (a discoverable credential, its challenge bound to the
 * login transaction and spent by the first answer) and the creation options of the passkey offer. The rp is the
 * issuer's host, and the pages run on the issuer's origin.
 */
export function createHostedPasskeys(deps: Deps) {
  const rp = relyingParty(deps.config.issuer);
  const nowSeconds = () => Math.floor(deps.clock.now() / 1000);
  const challengeKey = (txId: string, challenge: string) => `${CHALLENGE_KEY}${txId}:${challenge}`;

  return {
    /**
     * Request options for the login page, their challenge stored for this transaction: each rendering of the
     * page gets its own, so a second tab or a failed attempt does not disturb another.
     */
    async loginOptions(opened: Opened): Promise<Record<string, unknown>> {
      const ttl = Math.min(CEREMONY_SECONDS, opened.tx.expiresAt - nowSeconds());
      const options = await generateAuthenticationOptions({
        rpID: rp.id,
        timeout: CEREMONY_SECONDS * 1000,
        userVerification: 'required',
      });
      if (ttl > 0) await deps.oneTime.putOnce(challengeKey(opened.tx.id, options.challenge), '1', ttl);
      return { ...options };
    },

    /**
     * Signs the user in with the posted assertion: the challenge must be one this transaction's page was given
     * (spent now, whatever follows), the credential one of the connection's users, the assertion verified.
     * @throws LoginError `passkey_refused` (with the user when the passkey named one) or `blocked`.
     */
    async signIn(opened: Opened, connection: Connection, body: Record<string, unknown>): Promise<User> {
      const refused = (userId?: string) => new LoginError('passkey_refused', connection.name, userId);
      const challenge = field(body, 'challenge');
      const response = postedCredential(body, 'passkey_response');
      if (!/^[\w-]{16,128}$/.test(challenge) || response === undefined) throw refused();
      if ((await deps.oneTime.takeOnce(challengeKey(opened.tx.id, challenge))) === undefined) throw refused();
      const owner = await assertionOwner(deps, response, connection.name);
      if (!owner) throw refused();
      const { passkey, user } = owner;
      try {
        await verifyAndRecordUse(deps, response, passkey, {
          challenge,
          origins: [rp.origin],
          rpId: rp.id,
          requireUserVerification: true,
        });
      } catch (error) {
        if (!(error instanceof AssertionRefused)) throw error;
        throw refused(user.userId);
      }
      return user;
    },

    /**
     * Request options for the second-factor page: the user's own passkeys only, the challenge stored for this
     * transaction as the login page's are. Undefined when the user has none or the connection has them off.
     */
    async secondFactorOptions(
      opened: Opened,
      connection: Connection | undefined,
      userId: string,
    ): Promise<Record<string, unknown> | undefined> {
      if (!connection || !passkeysEnabled(connection)) return undefined;
      const own = await deps.store.passkeys.listForUser(userId);
      if (own.length === 0) return undefined;
      const ttl = Math.min(CEREMONY_SECONDS, opened.tx.expiresAt - nowSeconds());
      const options = await generateAuthenticationOptions({
        rpID: rp.id,
        timeout: CEREMONY_SECONDS * 1000,
        userVerification: 'required',
        allowCredentials: own.map((p) => ({ id: p.credentialId, transports: [...p.transports] })),
      });
      if (ttl > 0) await deps.oneTime.putOnce(challengeKey(opened.tx.id, options.challenge), '1', ttl);
      return { ...options };
    },

    /**
     * The posted assertion as a second factor of `userId`: the challenge one this transaction's page was given
     * (spent now), the passkey the user's own, the assertion verified and its use recorded. False otherwise.
     */
    async verifySecondFactor(
      opened: Opened,
      userId: string,
      body: Record<string, unknown>,
    ): Promise<boolean> {
      const challenge = field(body, 'challenge');
      const response = postedCredential(body, 'passkey_response');
      if (!/^[\w-]{16,128}$/.test(challenge) || response === undefined) return false;
      if ((await deps.oneTime.takeOnce(challengeKey(opened.tx.id, challenge))) === undefined) return false;
      const credentialId = assertionCredentialId(response);
      const passkey = credentialId && (await deps.store.passkeys.findByCredentialId(credentialId));
      if (!passkey || passkey.userId !== userId) return false;
      try {
        await verifyAndRecordUse(deps, response, passkey, {
          challenge,
          origins: [rp.origin],
          rpId: rp.id,
          requireUserVerification: true,
        });
      } catch (error) {
        if (!(error instanceof AssertionRefused)) throw error;
        return false;
      }
      return true;
    },

    /** The offer's creation options for `user` (as My Account makes them: the same user handle and rules). */
    async offerStep(user: User): Promise<PasskeyOfferStep> {
      const label = passkeyUserLabel(user);
      const options = await passkeyCreationOptions({
        rpId: rp.id,
        rpName: tenantDisplayName(await deps.lookups.tenantSettings(), rp.id),
        userHandle: Buffer.from(userHandleOf(user.userId), 'base64url'),
        userName: label,
        userDisplayName: label,
        timeoutMs: CEREMONY_SECONDS * 1000,
        userVerification: 'required',
      });
      return { userId: user.userId, options: { ...options } };
    },

    /** The relying party the pages' ceremonies run for. */
    rp,
  };
}
export type HostedPasskeys = ReturnType<typeof createHostedPasskeys>;
