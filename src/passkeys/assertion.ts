import type { Passkey } from '../domain/passkey.js';
import type { User } from '../domain/user.js';
import type { Deps } from '../server/deps.js';
import {
  assertionCredentialId,
  verifyPasskeyAssertion,
  type AssertionCheck,
} from '../webauthn/authentication.js';

/**
 * The stored passkey an assertion names and its user, when that user signs in with `connection`: what native
 * sign-in and the login page look up before verifying. Undefined when either is unknown.
 */
export async function assertionOwner(
  deps: Pick<Deps, 'store'>,
  response: unknown,
  connection: string,
): Promise<{ readonly passkey: Passkey; readonly user: User } | undefined> {
  const credentialId = assertionCredentialId(response);
  const passkey = credentialId && (await deps.store.passkeys.findByCredentialId(credentialId));
  if (!passkey) return undefined;
  const user = await deps.store.users.findById(passkey.userId);
  const own = user?.identities.some((i) => i.provider === 'auth0' && i.connection === connection);
  return user && own ? { passkey, user } : undefined;
}

/**
 * Verifies the assertion for `passkey` and records its use (counter compare-and-set, last use); My Account's
 * cached list of the user's passkeys is forgotten, since it shows the last use.
 * @throws AssertionRefused
 */
export async function verifyAndRecordUse(
  deps: Pick<Deps, 'store' | 'clock' | 'invalidation'>,
  response: unknown,
  passkey: Passkey,
  check: Omit<AssertionCheck, 'recordUse'>,
): Promise<void> {
  await verifyPasskeyAssertion(response, passkey, {
    ...check,
    recordUse: (from, to) =>
      deps.store.passkeys.recordUse(passkey.id, from, to, new Date(deps.clock.now()).toISOString()),
  });
  deps.invalidation.userChanged(passkey.userId, 'passkeys');
}
