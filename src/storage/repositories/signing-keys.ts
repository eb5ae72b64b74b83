import { sql, type Selectable } from 'kysely';
import type { DbOrTx } from '../db.js';
import type { SigningKeysTable } from '../schema.js';
import type { KeyState, SigningKey } from '../../domain/signing-key.js';
import type { SecretBox } from '../../lib/secret-box.js';
import { fromJson, toJson } from '../json.js';

export function createSigningKeyRepository(db: DbOrTx, tenantId: string, box: SecretBox) {
  const toRecord = (row: Selectable<SigningKeysTable>): SigningKey => ({
    tenantId: row.tenant_id,
    kid: row.kid,
    alg: 'RS256',
    state: row.state as KeyState,
    publicJwk: fromJson(row.public_jwk),
    privateKeyPem: box.open(row.private_key),
    cert: row.cert,
    fingerprint: row.fingerprint,
    thumbprint: row.thumbprint,
    currentSince: row.current_since ?? undefined,
    currentUntil: row.current_until ?? undefined,
    revokedAt: row.revoked_at ?? undefined,
    createdAt: row.created_at,
  });

  return {
    /** Every key, oldest first. */
    async list(): Promise<SigningKey[]> {
      const rows = await db
        .selectFrom('signing_keys')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .orderBy('seq')
        .orderBy('kid')
        .execute();
      return rows.map(toRecord);
    },
    async insert(key: SigningKey): Promise<void> {
      await db
        .insertInto('signing_keys')
        .values({
          tenant_id: tenantId,
          kid: key.kid,
          alg: key.alg,
          state: key.state,
          public_jwk: toJson(key.publicJwk),
          private_key: box.seal(key.privateKeyPem),
          cert: key.cert,
          fingerprint: key.fingerprint,
          thumbprint: key.thumbprint,
          current_since: key.currentSince ?? null,
          current_until: key.currentUntil ?? null,
          revoked_at: key.revokedAt ?? null,
          created_at: key.createdAt,
          // Rotation is serialised per tenant, so the next number is taken without a race.
          seq: (eb) =>
            eb
              .selectFrom('signing_keys')
              .select(sql<number>`coalesce(max(seq), 0) + 1`.as('next'))
              .where('tenant_id', '=', tenantId),
        })
        .execute();
    },
    async updateState(
      kid: string,
      change: { state: KeyState; currentSince?: string; currentUntil?: string; revokedAt?: string },
    ): Promise<void> {
      await db
        .updateTable('signing_keys')
        .set({
          state: change.state,
          ...(change.currentSince !== undefined ? { current_since: change.currentSince } : {}),
          ...(change.currentUntil !== undefined ? { current_until: change.currentUntil } : {}),
          ...(change.revokedAt !== undefined ? { revoked_at: change.revokedAt } : {}),
        })
        .where('tenant_id', '=', tenantId)
        .where('kid', '=', kid)
        .execute();
    },
  };
}
export type SigningKeyRepository = ReturnType<typeof createSigningKeyRepository>;
