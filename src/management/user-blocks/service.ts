import type { Connection } from '../../domain/connection.js';
import { ownIdentity, type User } from '../../domain/user.js';
import { NotFound } from '../../errors/api.js';
import type { Deps } from '../../server/deps.js';
import { unknownLoginSubject } from '../../users/authenticate.js';

export interface UserBlocks {
  readonly blocked_for: { identifier: string; ip: string; connection: string }[];
}

/** Database connections a tenant can hold; far fewer in practice. */
const MAX_CONNECTIONS = 1000;

/**
 * Brute-force blocks (spec 2.4): which login-name/IP pairs are blocked, and lifting them. A user's blocks
 * are those of the user id; a login name without an account is blocked under the name itself.
 */
export function createUserBlockService(deps: Deps) {
  const { store } = deps;
  const nowSeconds = () => Math.floor(deps.clock.now() / 1000);

  async function user(id: string): Promise<User> {
    const found = await store.users.findById(id);
    if (!found) throw new NotFound('inexistent_user', 'The user does not exist.');
    return found;
  }

  /** What failures for `identifier` count under: in each database connection, its account or else the name itself. */
  async function subjectsOf(identifier: string) {
    const users = await store.users.findAllByLogin(identifier);
    const connections = await store.connections.list(
      { strategies: ['auth0'] },
      { offset: 0, limit: MAX_CONNECTIONS },
    );
    const withAccount = new Set(users.map((u) => u.identity.connection));
    return [
      ...users.map(({ user: u, identity }) => ({
        subject: u.userId,
        identifier: loginName(u),
        connection: identity.connection,
      })),
      ...connections
        .filter((c) => !withAccount.has(c.name))
        .map((c) => ({
          subject: unknownLoginSubject(c.name, identifier),
          identifier: identifier.toLowerCase(),
          connection: c.name,
        })),
    ];
  }

  /** With `onlyProtected`, connections without brute-force protection report no blocks. */
  async function blocksOf(
    subjects: readonly { subject: string; identifier: string; connection: string }[],
    onlyProtected: boolean,
  ): Promise<UserBlocks> {
    let considered = subjects;
    if (onlyProtected) {
      const protectedConnections = new Set<string>();
      for (const name of new Set(subjects.map((s) => s.connection))) {
        if (isProtected(await store.connections.findByName(name))) protectedConnections.add(name);
      }
      considered = subjects.filter((s) => protectedConnections.has(s.connection));
    }
    const bySubject = new Map(considered.map((s) => [s.subject, s]));
    const blocks = await store.loginFailures.blocksFor([...bySubject.keys()], nowSeconds());
    return {
      blocked_for: blocks.flatMap((b) => {
        const s = bySubject.get(b.subject);
        return s ? [{ identifier: s.identifier, ip: b.ip, connection: s.connection }] : [];
      }),
    };
  }

  const ofUser = (u: User) => ({
    subject: u.userId,
    identifier: loginName(u),
    connection: ownIdentity(u).connection,
  });

  return {
    forUser: async (id: string, onlyProtected = false) => blocksOf([ofUser(await user(id))], onlyProtected),
    // Auth0 compat: an identifier (email, username) may name users of several connections.
    forIdentifier: async (identifier: string, onlyProtected = false) =>
      blocksOf(await subjectsOf(identifier), onlyProtected),
    async unblockUser(id: string): Promise<void> {
      await store.loginFailures.clear((await user(id)).userId);
    },
    async unblockIdentifier(identifier: string): Promise<void> {
      for (const { subject } of await subjectsOf(identifier)) await store.loginFailures.clear(subject);
    },
  };
}

function loginName(u: User): string {
  return u.email ?? u.username ?? u.userId;
}

function isProtected(connection: Connection | undefined): boolean {
  return connection?.options['brute_force_protection'] !== false;
}
