import type { Selectable } from 'kysely';
import type { Passkey } from '../../domain/passkey.js';
import type { DbOrTx } from '../db.js';
import { fromBool, fromJson, toBool, toJson } from '../json.js';
import type { PasskeysTable } from '../schema.js';

function toPasskey(r: Selectable<PasskeysTable>): Passkey {
  return {
    id: r.id,
    userId: r.user_id,
    credentialId: r.credential_id,
    publicKey: r.public_key,
    counter: r.counter,
    transports: fromJson<string[]>(r.transports),
    deviceType: r.device_type === 'multiDevice' ? 'multiDevice' : 'singleDevice',
    backedUp: toBool(r.backed_up),
    aaguid: r.aaguid,
    userHandle: r.user_handle,
    name: r.name ?? undefined,
    userAgent: r.user_agent ?? undefined,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at ?? undefined,
  };
}

/** Users' passkeys; a credential id is unique in the tenant (the insert fails on a second one). */
export function createPasskeyRepository(db: DbOrTx, tenantId: string) {
  return {
    async insert(passkey: Passkey): Promise<void> {
      await db
        .insertInto('passkeys')
        .values({
          tenant_id: tenantId,
          id: passkey.id,
          user_id: passkey.userId,
          credential_id: passkey.credentialId,
          public_key: passkey.publicKey,
          counter: passkey.counter,
          transports: toJson(passkey.transports),
          device_type: passkey.deviceType,
          backed_up: fromBool(passkey.backedUp),
          aaguid: passkey.aaguid,
          user_handle: passkey.userHandle,
          name: passkey.name ?? null,
          user_agent: passkey.userAgent ?? null,
          created_at: passkey.createdAt,
          last_used_at: passkey.lastUsedAt ?? null,
        })
        .execute();
    },
    async listForUser(userId: string): Promise<Passkey[]> {
      const rows = await db
        .selectFrom('passkeys')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', userId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(toPasskey);
    },
    async findForUser(userId: string, id: string): Promise<Passkey | undefined> {
      const row = await db
        .selectFrom('passkeys')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', userId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toPasskey(row);
    },
    async findByCredentialId(credentialId: string): Promise<Passkey | undefined> {
      const row = await db
        .selectFrom('passkeys')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('credential_id', '=', credentialId)
        .executeTakeFirst();
      return row && toPasskey(row);
    },
    /** A sign-in with the passkey: the counter moves only from the value the assertion was checked against. */
    async recordUse(id: string, fromCounter: number, toCounter: number, at: string): Promise<boolean> {
      const result = await db
        .updateTable('passkeys')
        .set({ counter: toCounter, last_used_at: at })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where('counter', '=', fromCounter)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    /** Account linking: the secondary's passkeys sign in as the primary, remembering whose they were. */
    async linkTo(secondary: string, primary: string): Promise<void> {
      await db
        .updateTable('passkeys')
        .set({ user_id: primary, linked_from: secondary })
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', secondary)
        .execute();
    },
    /** Unlinking: the passkeys that came from `account` go back to it. */
    async unlinkFrom(primary: string, account: string): Promise<void> {
      await db
        .updateTable('passkeys')
        .set({ user_id: account, linked_from: null })
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', primary)
        .where('linked_from', '=', account)
        .execute();
    },
    async rename(userId: string, id: string, name: string | null): Promise<boolean> {
      const result = await db
        .updateTable('passkeys')
        .set({ name })
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', userId)
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async delete(userId: string, id: string): Promise<boolean> {
      const result = await db
        .deleteFrom('passkeys')
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', userId)
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}
export type PasskeyRepository = ReturnType<typeof createPasskeyRepository>;
