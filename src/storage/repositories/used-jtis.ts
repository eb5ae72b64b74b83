import type { DbOrTx } from '../db.js';
import { isUniqueViolation } from '../json.js';

export function createUsedJtiRepository(db: DbOrTx, tenantId: string) {
  return {
    /**
     * Records a jti as used until `expiresAt` (epoch seconds).
     * @returns false when the same client already used this jti.
     */
    async markUsed(clientId: string, jti: string, expiresAt: number, now: number): Promise<boolean> {
      await db.deleteFrom('used_jtis').where('expires_at', '<', now).execute();
      try {
        await db
          .insertInto('used_jtis')
          .values({ tenant_id: tenantId, client_id: clientId, jti, expires_at: expiresAt })
          .execute();
        return true;
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    },
  };
}
export type UsedJtiRepository = ReturnType<typeof createUsedJtiRepository>;
