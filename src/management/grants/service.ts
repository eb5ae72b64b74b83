import type { Consent } from '../../domain/refresh-token.js';
import { NotFound } from '../../errors/api.js';
import type { Deps } from '../../server/deps.js';
import type { ConsentFilter } from '../../storage/repositories/consents.js';

/** A user's consent grants; deleting one also revokes the refresh tokens it backs. */
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
        await repos.refreshTokens.revokeFor(consent.userId, consent.clientId, consent.audience, nowSeconds());
        await repos.consents.delete(consent.id);
      });
    },

    async removeForUser(userId: string): Promise<void> {
      await store.transaction(async (repos) => {
        for (const c of await repos.consents.list({ userId }, { offset: 0, limit: 10_000 })) {
          await repos.refreshTokens.revokeFor(c.userId, c.clientId, c.audience, nowSeconds());
          await repos.consents.delete(c.id);
        }
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
