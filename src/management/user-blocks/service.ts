import { ownIdentity, type Identity, type User } from '../../domain/user.js';
import { NotFound } from '../../errors/api.js';
import type { Deps } from '../../server/deps.js';

export interface UserBlocks {
  readonly blocked_for: { identifier: string; ip: string; connection: string }[];
}

/** Brute-force blocks (spec 2.4): which user/IP pairs are blocked, and lifting them. */
export function createUserBlockService(deps: Deps) {
  const { store } = deps;

  async function user(id: string): Promise<User> {
    const found = await store.users.findById(id);
    if (!found) throw new NotFound('inexistent_user', 'The user does not exist.');
    return found;
  }

  /** With `onlyProtected`, users of connections without brute-force protection report no blocks. */
  async function blocksOf(
    signIns: readonly { readonly user: User; readonly identity: Identity }[],
    onlyProtected: boolean,
  ): Promise<UserBlocks> {
    const now = Math.floor(deps.clock.now() / 1000);
    const perUser = await Promise.all(
      signIns.map(async ({ user: u, identity }) => {
        if (onlyProtected) {
          const connection = await store.connections.findByName(identity.connection);
          if (connection?.options['brute_force_protection'] === false) return [];
        }
        return (await store.loginFailures.blocksFor(u.userId, now)).map((b) => ({
          identifier: u.email ?? u.username ?? u.userId,
          ip: b.ip,
          connection: identity.connection,
        }));
      }),
    );
    return { blocked_for: perUser.flat() };
  }

  return {
    forUser: async (id: string, onlyProtected = false) => {
      const found = await user(id);
      return blocksOf([{ user: found, identity: ownIdentity(found) }], onlyProtected);
    },
    // Auth0 compat: an identifier (email, username) may name users of several connections.
    forIdentifier: async (identifier: string, onlyProtected = false) =>
      blocksOf(await store.users.findAllByLogin(identifier), onlyProtected),
    async unblockUser(id: string): Promise<void> {
      await store.loginFailures.clear((await user(id)).userId);
    },
    async unblockIdentifier(identifier: string): Promise<void> {
      for (const { user: u } of await store.users.findAllByLogin(identifier)) {
        await store.loginFailures.clear(u.userId);
      }
    },
  };
}
