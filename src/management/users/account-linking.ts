import { isOwnIdentity, userIdProvider, userIdValue, type Identity, type User } from '../../domain/user.js';
import { BadRequest, Conflict, Forbidden, NotFound } from '../../errors/api.js';
import { LinkTokenRefused, verifyLinkToken } from '../../oauth/tokens/verify-link-token.js';
import type { RequestAuth } from '../../server/verified-tokens.js';
import type { Deps } from '../../server/deps.js';
import type { Repositories } from '../../storage/repositories/index.js';
import type { LinkBody } from './schemas.js';

const notFound = () => new NotFound('inexistent_user', 'The user does not exist.');
const alreadyLinked = () => new Conflict('conflict', 'Specified identity already exists.');

/** The secondary account of a link: named by an ID token of its sign-in, or by provider and id. */
export type LinkTarget =
  | { readonly idToken: string; readonly audience: string | undefined }
  | { readonly provider: string; readonly userId: string; readonly connectionId?: string | undefined };

/** Auth0's `profileData` of a linked account: the root profile it had on its own. */
function profileDataOf(user: User): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  if (user.email !== undefined) {
    data['email'] = user.email;
    data['email_verified'] = user.emailVerified;
  }
  if (user.name !== undefined) data['name'] = user.name;
  if (user.username !== undefined) data['username'] = user.username;
  if (user.givenName !== undefined) data['given_name'] = user.givenName;
  if (user.familyName !== undefined) data['family_name'] = user.familyName;
  if (user.phoneNumber !== undefined) {
    data['phone_number'] = user.phoneNumber;
    data['phone_verified'] = user.phoneVerified;
  }
  return data;
}

/** An unlinked account on its own again: no metadata, its profile only what its profileData held (Auth0). */
function standaloneUser(tenantId: string, identity: Identity, at: string): User {
  const data = identity.profileData;
  const text = (key: string) => (typeof data[key] === 'string' ? data[key] : undefined);
  return {
    tenantId,
    userId: `${identity.provider}|${identity.userId}`,
    email: text('email'),
    emailVerified: data['email_verified'] === true,
    username: text('username'),
    phoneNumber: text('phone_number'),
    phoneVerified: data['phone_verified'] === true,
    name: text('name'),
    givenName: text('given_name'),
    familyName: text('family_name'),
    nickname: undefined,
    picture: undefined,
    userMetadata: {},
    appMetadata: {},
    lastPasswordReset: undefined,
    blocked: false,
    loginsCount: 0,
    lastLogin: undefined,
    lastIp: undefined,
    // A new user: access tokens issued to the account before it was linked stay refused.
    createdAt: at,
    updatedAt: at,
    identities: [{ ...identity, profileData: {}, updatedAt: at }],
  };
}

/**
 * Account linking (spec 4.5). The secondary's own identity moves under the primary with the secondary's
 * profile as its profileData, and the secondary user stops existing: its metadata is discarded (Auth0),
 * its sessions end, and its refresh tokens, consents, MFA enrolments, roles and permissions go with its row.
 * Its passkeys move with its identity, so they sign in as the primary, and go back to it when unlinked.
 */
export function createAccountLinking(deps: Deps) {
  const { store } = deps;
  const now = () => new Date(deps.clock.now()).toISOString();

  const publicKey = (kid: string) => deps.keystore.findPublicKey(kid);

  async function secondaryOf(target: LinkTarget): Promise<{ provider: string; userId: string }> {
    if (!('idToken' in target)) return { provider: target.provider, userId: target.userId };
    try {
      const sub = await verifyLinkToken({
        token: target.idToken,
        issuer: deps.config.issuer,
        publicKey,
        audience: target.audience,
        nowSeconds: Math.floor(deps.clock.now() / 1000),
      });
      return { provider: userIdProvider(sub), userId: userIdValue(sub) };
    } catch (error) {
      if (error instanceof LinkTokenRefused) throw new BadRequest('invalid_body', error.message);
      throw error;
    }
  }

  /** Locks the users in one order, whatever the request, so two crossing links cannot deadlock. */
  async function lockBoth(repos: Repositories, a: string, b: string): Promise<Map<string, User | undefined>> {
    const locked = new Map<string, User | undefined>();
    for (const id of [a, b].sort()) locked.set(id, await repos.users.findForUpdate(id));
    return locked;
  }

  return {
    /** @returns the primary's identities after the link. */
    async link(primaryId: string, target: LinkTarget): Promise<readonly Identity[]> {
      const { provider, userId } = await secondaryOf(target);
      const secondaryId = `${provider}|${userId}`;
      if (secondaryId === primaryId) throw alreadyLinked();
      const at = now();
      const identities = await store.transaction(async (repos) => {
        const owner = await repos.users.findIdentityOwner(provider, userId);
        if (owner === undefined)
          throw new BadRequest('invalid_body', 'The secondary account does not exist.');
        // Linked already, to this user or another.
        if (owner !== secondaryId) throw alreadyLinked();
        const locked = await lockBoth(repos, primaryId, secondaryId);
        const primary = locked.get(primaryId);
        if (!primary) throw notFound();
        const secondary = locked.get(secondaryId);
        // Linked by a concurrent request while this one waited for the lock.
        if (!secondary) throw alreadyLinked();
        const own = secondary.identities.find((i) => isOwnIdentity(secondary, i));
        if (!own) throw alreadyLinked();
        if (secondary.identities.length > 1) {
          throw new BadRequest(
            'invalid_body',
            'The secondary account has accounts linked to it; unlink them before linking it.',
          );
        }
        if ('connectionId' in target && target.connectionId !== undefined) {
          const connection = await repos.connections.findById(target.connectionId);
          if (!connection) throw new BadRequest('inexistent_connection', 'The connection does not exist.');
          if (connection.name !== own.connection)
            throw new BadRequest('invalid_body', 'The secondary account does not exist.');
        }
        if (!(await repos.users.moveIdentity(own, secondaryId, primaryId, profileDataOf(secondary), at)))
          throw alreadyLinked();
        await repos.passkeys.linkTo(secondaryId, primaryId);
        await repos.sessions.deleteForUser(secondaryId);
        // Its refresh tokens, consents, MFA enrolments, roles and permissions are deleted with the row.
        await repos.users.delete(secondaryId);
        const after = await repos.users.findById(primaryId);
        if (!after) throw notFound();
        return after.identities;
      });
      deps.invalidation.userChanged(primaryId);
      deps.invalidation.userChanged(secondaryId);
      return identities;
    },

    /** @returns the primary's identities after the unlink. */
    async unlink(primaryId: string, provider: string, userId: string): Promise<readonly Identity[]> {
      const at = now();
      const standaloneId = `${provider}|${userId}`;
      const identities = await store.transaction(async (repos) => {
        const primary = await repos.users.findForUpdate(primaryId);
        if (!primary) throw notFound();
        const identity = primary.identities.find((i) => i.provider === provider && i.userId === userId);
        if (!identity) throw new NotFound('not_found', 'The identity is not linked to this user.');
        if (isOwnIdentity(primary, identity))
          throw new BadRequest('invalid_uri', 'Main identity cannot be removed.');
        const user = standaloneUser(deps.tenantId, identity, at);
        await repos.users.insertProfile(user);
        if (!(await repos.users.moveIdentity(identity, primaryId, standaloneId, {}, at)))
          throw new NotFound('not_found', 'The identity is not linked to this user.');
        await repos.passkeys.unlinkFrom(primaryId, standaloneId);
        return primary.identities.filter((i) => i !== identity);
      });
      deps.invalidation.userChanged(primaryId);
      deps.invalidation.userChanged(standaloneId);
      return identities;
    },
  };
}

/**
 * The secondary account a link names: `link_with` (an ID token for the calling application), or `provider`
 * and `user_id`, which only an any-user token may send (spec 4.5).
 */
export function linkTarget(body: LinkBody, auth: RequestAuth | null): LinkTarget {
  const byId = body.provider !== undefined || body.user_id !== undefined || body.connection_id !== undefined;
  if (body.link_with !== undefined) {
    if (byId) {
      throw new BadRequest(
        'invalid_body',
        'Payload validation error: link_with cannot be sent with provider, user_id or connection_id.',
      );
    }
    return { idToken: body.link_with, audience: auth?.clientId };
  }
  if (auth?.currentUserOnly === true) {
    throw new Forbidden(
      'insufficient_scope',
      'A current-user token may link only the account of an ID token (link_with); provider and user_id need update:users.',
    );
  }
  if (body.provider === undefined || body.user_id === undefined) {
    throw new BadRequest(
      'invalid_body',
      'Payload validation error: send either link_with, or provider and user_id.',
    );
  }
  return {
    provider: body.provider,
    userId: String(body.user_id),
    ...(body.connection_id !== undefined ? { connectionId: body.connection_id } : {}),
  };
}
