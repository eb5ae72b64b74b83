import type { Consent } from '../../domain/refresh-token.js';
import { NotFound } from '../../errors/api.js';
import type { Deps } from '../../server/deps.js';
import type { ConsentFilter } from '../../storage/repositories/consents.js';

/**
 * A user's consent grants. Auth0: tokens are issued in the context of a grant and die with it, and revoking an
 * application in the user's "Authorized Applications" invalidates its refresh tokens. A login that asked only
 * `openid offline_access` leaves no grant row here, so deleting a grant revokes every refresh token the user
 * gave that application, and deleting a user's grants revokes all of the user's refresh tokens.
 */
export function createGrantService(deps: Deps) {
  const { store } = deps;
  const nowSeconds = () => Math.floor(deps.clock.now() / 1000);

  return {
    async list(filter: ConsentFilter, page: { offset: number; limit: number }) {
      const [items, total] = await Promise.all([
        store.consents.list(filter, page),
        store.consents.count(filter),
      ]);
      return { items, total };
    },

    async remove(id: string): Promise<void> {
      const consent = await store.consents.findById(id);
      if (!consent) throw new NotFound('inexistent_grant', 'The grant does not exist.');
      await store.transaction(async (repos) => {
        await repos.refreshTokens.revokeForUserAndClient(
          consent.userId,
          consent.clientId,
          nowSeconds(),
          'grant_deleted',
        );
        await repos.consents.delete(consent.id);
      });
    },

    async removeForUser(userId: string): Promise<void> {
      await store.transaction(async (repos) => {
        await repos.refreshTokens.revokeForUser(userId, nowSeconds(), 'grant_deleted');
        await repos.consents.deleteForUser(userId);
      });
    },
  };
}

export const toGrantView = (c: Consent) => ({
  id: c.id,
  clientID: c.clientId,
  user_id: c.userId,
  audience: c.audience,
  scope: [...c.scope],
});
