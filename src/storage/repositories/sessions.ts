import type { Insertable, Selectable } from 'kysely';
import type { DbOrTx } from '../db.js';
import { precompiled, type CompiledQueries } from '../precompiled.js';
import type { SessionsTable } from '../schema.js';
import type { Session } from '../../domain/session.js';

function toSession(r: Selectable<SessionsTable>): Session {
  return {
    id: r.id,
    userId: r.user_id,
    createdAt: r.created_at,
    authenticatedAt: r.authenticated_at,
    lastInteractionAt: r.last_interaction_at,
    expiresAt: r.expires_at,
    idleExpiresAt: r.idle_expires_at,
    revokedAt: r.revoked_at ?? undefined,
    ip: r.ip ?? undefined,
    userAgent: r.user_agent ?? undefined,
    amr: parseAmr(r.amr),
    mfaAt: r.mfa_at ?? undefined,
  };
}

function parseAmr(raw: string | null): string[] {
  if (raw === null) return [];
  const parsed: unknown = JSON.parse(raw);
  return Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === 'string') : [];
}

type SessionValues = Omit<Insertable<SessionsTable>, 'tenant_id'>;
const SESSION_COLUMNS = [
  'id',
  'token_hash',
  'user_id',
  'created_at',
  'authenticated_at',
  'last_interaction_at',
  'expires_at',
  'idle_expires_at',
  'revoked_at',
  'ip',
  'user_agent',
  'amr',
  'mfa_at',
] as const satisfies readonly (keyof SessionValues)[];

/** SSO sessions, found by the SHA-256 of their cookie value (the value itself is never stored). */
export function createSessionRepository(db: DbOrTx, tenantId: string, compiled: CompiledQueries) {
  const shared = (key: string) => ({ cache: compiled, key: `sessions.${key}` });
  // Every sign-in runs these two: compiled once (see precompiled).
  const insertQuery = precompiled(
    db,
    SESSION_COLUMNS.length,
    (...values: unknown[]) =>
      db.insertInto('sessions').values({
        ...(Object.fromEntries(SESSION_COLUMNS.map((c, i) => [c, values[i]])) as SessionValues),
        tenant_id: tenantId,
      }),
    shared('insert'),
  );
  const addClientQuery = precompiled(
    db,
    3,
    (sessionId: string, clientId: string, at: number) =>
      db
        .insertInto('session_clients')
        .values({ tenant_id: tenantId, session_id: sessionId, client_id: clientId, created_at: at })
        .onConflict((oc) => oc.columns(['tenant_id', 'session_id', 'client_id']).doNothing()),
    shared('addClient'),
  );
  return {
    async insert(session: Session, tokenHash: string): Promise<void> {
      const row: SessionValues = {
        id: session.id,
        token_hash: tokenHash,
        user_id: session.userId,
        created_at: session.createdAt,
        authenticated_at: session.authenticatedAt,
        last_interaction_at: session.lastInteractionAt,
        expires_at: session.expiresAt,
        idle_expires_at: session.idleExpiresAt,
        revoked_at: session.revokedAt ?? null,
        ip: session.ip ?? null,
        user_agent: session.userAgent ?? null,
        amr: JSON.stringify(session.amr),
        mfa_at: session.mfaAt ?? null,
      };
      await insertQuery(...SESSION_COLUMNS.map((c) => row[c]));
    },
    async findByTokenHash(tokenHash: string): Promise<Session | undefined> {
      const row = await db
        .selectFrom('sessions')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('token_hash', '=', tokenHash)
        .executeTakeFirst();
      return row && toSession(row);
    },
    async findById(id: string): Promise<Session | undefined> {
      const row = await db
        .selectFrom('sessions')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toSession(row);
    },
    /** The user interacted at `at`: the idle window restarts (never past the absolute expiry). */
    async touch(id: string, at: number, idleExpiresAt: number): Promise<void> {
      await db
        .updateTable('sessions')
        .set({ last_interaction_at: at, idle_expires_at: idleExpiresAt })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .execute();
    },
    /**
     * A second factor passed in the session at `at`: it joins the session's methods, and the sign-in counts as
     * multi-factor from then on (acr_values, step-up).
     */
    async recordMfa(id: string, at: number, amr: readonly string[]): Promise<void> {
      await db
        .updateTable('sessions')
        .set({ mfa_at: at, amr: JSON.stringify(amr) })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .execute();
    },
    /** Checkpoint paging over the user's sessions still usable at `now`, by id. */
    async listActiveForUser(
      userId: string,
      now: number,
      afterId: string | undefined,
      limit: number,
    ): Promise<Session[]> {
      let q = db
        .selectFrom('sessions')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .where('idle_expires_at', '>', now);
      if (afterId !== undefined) q = q.where('id', '>', afterId);
      const rows = await q.orderBy('id').limit(limit).execute();
      return rows.map(toSession);
    },
    async revokeForUser(userId: string, at: number): Promise<void> {
      await db
        .updateTable('sessions')
        .set({ revoked_at: at })
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .execute();
    },
    /** The session signed the user in to `clientId` (once per pair: a repeat changes nothing). */
    async addClient(sessionId: string, clientId: string, at: number): Promise<void> {
      await addClientQuery(sessionId, clientId, at);
    },
    /** The clients of each of `sessionIds`, in the order they were first signed in to. */
    async clientsOf(sessionIds: readonly string[]): Promise<Map<string, string[]>> {
      const out = new Map<string, string[]>(sessionIds.map((id) => [id, []]));
      if (sessionIds.length === 0) return out;
      const rows = await db
        .selectFrom('session_clients')
        .select(['session_id', 'client_id'])
        .where('tenant_id', '=', tenantId)
        .where('session_id', 'in', sessionIds)
        .orderBy('created_at')
        .orderBy('client_id')
        .execute();
      for (const row of rows) out.get(row.session_id)?.push(row.client_id);
      return out;
    },
    /** The user is deleted: their sessions go with them. */
    async deleteForUser(userId: string): Promise<void> {
      await db
        .deleteFrom('session_clients')
        .where('tenant_id', '=', tenantId)
        .where(
          'session_id',
          'in',
          db
            .selectFrom('sessions')
            .select('id')
            .where('tenant_id', '=', tenantId)
            .where('user_id', '=', userId),
        )
        .execute();
      await db
        .deleteFrom('sessions')
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', userId)
        .execute();
    },
    async revoke(id: string, at: number): Promise<void> {
      await db
        .updateTable('sessions')
        .set({ revoked_at: at })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .execute();
    },
  };
}
export type SessionRepository = ReturnType<typeof createSessionRepository>;
