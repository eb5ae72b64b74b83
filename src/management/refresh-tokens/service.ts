import type { RefreshTokenRecord } from '../../domain/refresh-token.js';
import { NotFound } from '../../errors/api.js';
import type { Deps } from '../../server/deps.js';

// Auth0's errorCode for an unknown refresh token is unconfirmed; this follows its inexistent_* spelling.
const notFound = () => new NotFound('inexistent_refresh_token', 'The refresh token does not exist.');

/**
 * Auth0's refresh-token endpoints: the tokens a user can still exchange (neither revoked, replaced by rotation
 * nor expired), and revoking them. Revoking one ends its rotation family, which is one sign-in.
 */
export function createRefreshTokenService(deps: Deps) {
  const { store } = deps;
  const nowSeconds = () => Math.floor(deps.clock.now() / 1000);

  async function assertUserExists(userId: string): Promise<void> {
    if (!(await store.users.findStanding(userId))) {
      throw new NotFound('inexistent_user', 'The user does not exist.');
    }
  }

  return {
    /** Checkpoint paging: up to `limit` of the user's tokens after the id `afterId`. */
    async listForUser(
      userId: string,
      afterId: string | undefined,
      limit: number,
    ): Promise<RefreshTokenRecord[]> {
      await assertUserExists(userId);
      return store.refreshTokens.listActiveForUser(userId, nowSeconds(), afterId, limit);
    },

    async get(id: string): Promise<RefreshTokenRecord> {
      const token = await store.refreshTokens.findActiveById(id, nowSeconds());
      if (!token) throw notFound();
      return token;
    },

    async revokeForUser(userId: string): Promise<void> {
      await assertUserExists(userId);
      await store.refreshTokens.revokeForUser(userId, nowSeconds(), 'deleted_by_admin');
    },

    /** Idempotent: a token that is gone already leaves nothing to do. */
    async revoke(id: string): Promise<void> {
      const now = nowSeconds();
      const token = await store.refreshTokens.findActiveById(id, now);
      if (token) await store.refreshTokens.revokeFamily(token.familyId, now, 'deleted_by_admin');
    },
  };
}
