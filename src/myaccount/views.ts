import type { Passkey } from '../domain/passkey.js';
import type { User } from '../domain/user.js';

/** Passkeys and passwords sign users in by themselves (spec 3.2). */
const PRIMARY = ['primary'] as const;

/** `passkey` authentication method (spec 3.2); `identity_user_id` is the user's own identity. */
export function passkeyMethodView(passkey: Passkey, rpId: string): Record<string, unknown> {
  return {
    id: passkey.id,
    type: 'passkey',
    usage: [...PRIMARY],
    created_at: passkey.createdAt,
    credential_backed_up: passkey.backedUp,
    credential_device_type: passkey.deviceType === 'multiDevice' ? 'multi_device' : 'single_device',
    identity_user_id: passkey.userId,
    key_id: passkey.credentialId,
    public_key: passkey.publicKey,
    user_handle: passkey.userHandle,
    transports: [...passkey.transports],
    aaguid: passkey.aaguid,
    relying_party_id: rpId,
    ...(passkey.name === undefined ? {} : { name: passkey.name }),
    ...(passkey.userAgent === undefined ? {} : { user_agent: passkey.userAgent }),
    ...(passkey.lastUsedAt === undefined ? {} : { last_auth_at: passkey.lastUsedAt }),
  };
}

/** The id of a password method: opaque, stable, `password|<base64url of the identity's user id>`. */
export function passwordMethodId(identityUserId: string): string {
  return `password|${Buffer.from(identityUserId, 'utf8').toString('base64url')}`;
}

/** `password` methods: one per identity of the user that signs in with a password (spec 3.2). */
export function passwordMethodViews(user: User): Record<string, unknown>[] {
  return user.identities
    .filter((identity) => identity.passwordHash !== undefined)
    .map((identity) => {
      const identityUserId = `${identity.provider}|${identity.userId}`;
      return {
        id: passwordMethodId(identityUserId),
        type: 'password',
        usage: [...PRIMARY],
        created_at: identity.createdAt,
        identity_user_id: identityUserId,
        ...(user.lastPasswordReset === undefined ? {} : { last_password_reset: user.lastPasswordReset }),
      };
    });
}

/**
 * Management API view of a passkey (GET /api/v2/users/{id}/authentication-methods): Auth0's authenticator
 * fields, `relying_party_identifier` rather than My Account's `relying_party_id`.
 */
export function managementPasskeyView(passkey: Passkey, rpId: string): Record<string, unknown> {
  return {
    id: passkey.id,
    type: 'passkey',
    confirmed: true,
    created_at: passkey.createdAt,
    credential_backed_up: passkey.backedUp,
    credential_device_type: passkey.deviceType === 'multiDevice' ? 'multi_device' : 'single_device',
    identity_user_id: passkey.userId,
    key_id: passkey.credentialId,
    public_key: passkey.publicKey,
    aaguid: passkey.aaguid,
    relying_party_identifier: rpId,
    ...(passkey.name === undefined ? {} : { name: passkey.name }),
    ...(passkey.userAgent === undefined ? {} : { user_agent: passkey.userAgent }),
    ...(passkey.lastUsedAt === undefined ? {} : { last_auth_at: passkey.lastUsedAt }),
  };
}
