import { isSessionActive, type Session } from '../../domain/session.js';
import { NotFound } from '../../errors/api.js';
import type { Deps } from '../../server/deps.js';

// Follows Auth0's inexistent_* spelling for unknown resources.
const notFound = () => new NotFound('inexistent_session', 'The session does not exist.');

/** A session with the applications it signed the user in to. */
export type SessionWithClients = Session & { readonly clients: readonly string[] };

/**
 * Auth0's session endpoints: the SSO sessions still usable (neither revoked nor expired), and ending them. An
 * ended session no longer skips the login page at /authorize.
 */
export function createSessionService(deps: Deps) {
  const { store } = deps;
  const nowSeconds = () => Math.floor(deps.clock.now() / 1000);

  async function assertUserExists(userId: string): Promise<void> {
    if (!(await store.users.findStanding(userId))) {
      throw new NotFound('inexistent_user', 'The user does not exist.');
    }
  }

  async function withClients(sessions: Session[]): Promise<SessionWithClients[]> {
    const clients = await store.sessions.clientsOf(sessions.map((s) => s.id));
    return sessions.map((s) => ({ ...s, clients: clients.get(s.id) ?? [] }));
  }

  return {
    /** Checkpoint paging: up to `limit` of the user's sessions after the id `afterId`. */
    async listForUser(
      userId: string,
      afterId: string | undefined,
      limit: number,
    ): Promise<SessionWithClients[]> {
      await assertUserExists(userId);
      return withClients(await store.sessions.listActiveForUser(userId, nowSeconds(), afterId, limit));
    },

    async get(id: string): Promise<SessionWithClients> {
      const session = await store.sessions.findById(id);
      if (!session || !isSessionActive(session, nowSeconds())) throw notFound();
      const [one] = await withClients([session]);
      return one ?? { ...session, clients: [] };
    },

    async endForUser(userId: string): Promise<void> {
      await assertUserExists(userId);
      await store.sessions.revokeForUser(userId, nowSeconds());
    },

    /** Idempotent: a session that is over already leaves nothing to do. */
    async end(id: string): Promise<void> {
      await store.sessions.revoke(id, nowSeconds());
    },
  };
}
