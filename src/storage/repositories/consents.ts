import type { DbOrTx } from '../db.js';
import type { Consent } from '../../domain/refresh-token.js';
import { fromJson, toJson } from '../json.js';
import type { Page } from './resource-servers.js';

export interface ConsentFilter {
  readonly userId?: string;
  readonly clientId?: string;
  readonly audience?: string;
}

export function createConsentRepository(db: DbOrTx, tenantId: string) {
  const filtered = (f: ConsentFilter) => {
    let q = db.selectFrom('consents').where('tenant_id', '=', tenantId);
    if (f.userId !== undefined) q = q.where('user_id', '=', f.userId);
    if (f.clientId !== undefined) q = q.where('client_id', '=', f.clientId);
    if (f.audience !== undefined) q = q.where('audience', '=', f.audience);
    return q;
  };
  const toRecord = (r: {
    id: string;
    user_id: string;
    client_id: string;
    audience: string;
    scope: string;
    created_at: string;
    updated_at: string;
  }): Consent => ({
    id: r.id,
    userId: r.user_id,
    clientId: r.client_id,
    audience: r.audience,
    scope: fromJson(r.scope),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  });
  return {
    async list(f: ConsentFilter, page: Page): Promise<Consent[]> {
      const rows = await filtered(f)
        .selectAll()
        .orderBy('created_at')
        .orderBy('id')
        .limit(page.limit)
        .offset(page.offset)
        .execute();
      return rows.map(toRecord);
    },
    async count(f: ConsentFilter): Promise<number> {
      const row = await filtered(f)
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async findById(id: string): Promise<Consent | undefined> {
      const row = await db
        .selectFrom('consents')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toRecord(row);
    },
    /**
     * Creates the (user, client, audience) grant or widens its scopes, in one statement per attempt so that
     * parallel logins never collide on `consents_unique`.
     * @throws when the row keeps changing under it (only after several attempts).
     */
    async upsert(c: Consent): Promise<void> {
      for (let attempt = 0; attempt < 5; attempt += 1) {
        const seen = await filtered({ userId: c.userId, clientId: c.clientId, audience: c.audience })
          .select('scope')
          .executeTakeFirst();
        const scope = toJson([...new Set([...(seen ? fromJson<string[]>(seen.scope) : []), ...c.scope])]);
        const result = await db
          .insertInto('consents')
          .values({
            tenant_id: tenantId,
            id: c.id,
            user_id: c.userId,
            client_id: c.clientId,
            audience: c.audience,
            scope,
            created_at: c.createdAt,
            updated_at: c.updatedAt,
          })
          .onConflict((oc) =>
            oc
              .columns(['tenant_id', 'user_id', 'client_id', 'audience'])
              .doUpdateSet({ scope, updated_at: c.updatedAt })
              // Compare-and-set: widen only the scopes read above (or ones that already equal the result).
              .where('consents.scope', 'in', seen ? [seen.scope, scope] : [scope]),
          )
          .executeTakeFirst();
        if (result.numInsertedOrUpdatedRows !== 0n) return;
      }
      throw new Error(`consent for ${c.userId} / ${c.clientId} / ${c.audience} kept changing`);
    },
    async deleteByAudience(audience: string): Promise<void> {
      await db
        .deleteFrom('consents')
        .where('tenant_id', '=', tenantId)
        .where('audience', '=', audience)
        .execute();
    },
    async deleteForUser(userId: string): Promise<void> {
      await db
        .deleteFrom('consents')
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', userId)
        .execute();
    },
    async delete(id: string): Promise<void> {
      await db.deleteFrom('consents').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
    },
  };
}
export type ConsentRepository = ReturnType<typeof createConsentRepository>;
