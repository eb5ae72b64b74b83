import { isOwnIdentity, ownIdentity, type User } from '../domain/user.js';
import { BadRequest } from '../errors/api.js';
import { createUserService } from '../management/users/service.js';
import type { Deps } from '../server/deps.js';
import { passwordOptionsOf, type PasswordOptions } from '../users/password-policy.js';
import { openAuthSession, takeAuthSession, type AuthSession } from './auth-session.js';
import { methodNotFound } from './service.js';
import { passwordMethodViews } from './views.js';

/** The id a password enrolment is started and verified under (spec 3.3). */
export const NEW_PASSWORD_ID = 'password|new';

/** Auth0's character class names in the policy of a password enrolment. */
const CLASSES = ['lowercase', 'uppercase', 'number', 'special'] as const;

/**
 * The connection's password options in the shape of spec 3.3's `policy`, so an application can show the rules
 * before the user types: Auth0's levels as complexity rules, and the dictionary, personal-data and history options.
 */
export function passwordPolicyView(options: PasswordOptions): Record<string, unknown> {
  const level = options.policy;
  const classes =
    level === 'fair' ? CLASSES.slice(0, 3) : level === 'good' || level === 'excellent' ? CLASSES : [];
  const minLength = options.minLength ?? { none: 1, low: 6, fair: 8, good: 8, excellent: 10 }[level];
  return {
    complexity: {
      min_length: minLength,
      character_types: [...classes],
      character_type_rule: level === 'good' || level === 'excellent' ? 'three_of_four' : 'all',
      identical_characters: level === 'excellent' ? 'block' : 'allow',
      sequential_characters: 'allow',
      max_length_exceeded: 'error',
    },
    profile_data: { active: options.noPersonalInfo, blocked_fields: [] },
    history: { active: options.historySize > 0, size: options.historySize },
    dictionary: { active: options.dictionary !== undefined, default: 'en_10k' },
  };
}

/**
 * The `password` method of spec 3.3/3.4: start answers the connection's policy and an auth_session; verify sets
 * the new password through the same path as the Management API (policy, history, hashing, and the end of the
 * user's other sessions and refresh tokens that a new password brings).
 */
export function createPasswordMethod(deps: Deps) {
  const users = createUserService(deps);
  return {
    async start(
      user: User,
      body: { connection?: string | undefined; identity_user_id?: string | undefined },
    ): Promise<Record<string, unknown> & { id: string }> {
      const own = user.identities.find((identity) => isOwnIdentity(user, identity));
      if (!own || (body.connection !== undefined && body.connection !== own.connection)) {
        throw new BadRequest('invalid_body', "The connection is not the user's connection.");
      }
      if (body.identity_user_id !== undefined && body.identity_user_id !== user.userId) {
        throw new BadRequest('invalid_body', "The identity_user_id is not the user's identity.");
      }
      const connection = await deps.lookups.connection(own.connection);
      if (connection?.strategy !== 'auth0') {
        throw new BadRequest('invalid_body', 'Only database connections have passwords.');
      }
      const authSession = await openAuthSession<AuthSession>(
        deps,
        { userId: user.userId, type: 'password' },
        deps.clock.now(),
      );
      return {
        id: NEW_PASSWORD_ID,
        auth_session: authSession,
        policy: passwordPolicyView(passwordOptionsOf(connection.options)),
      };
    },

    async verify(user: User, id: string, body: { auth_session: string; new_password: string }) {
      if (id !== NEW_PASSWORD_ID) throw methodNotFound();
      await takeAuthSession(deps, body.auth_session, user.userId, 'password', deps.clock.now());
      const updated = await users.update(user.userId, { password: body.new_password });
      const own = ownIdentity(updated);
      const view = passwordMethodViews(updated).find(
        (m) => m['identity_user_id'] === `${own.provider}|${own.userId}`,
      );
      if (!view) throw new Error(`user ${user.userId} has no password after setting one`);
      return view;
    },
  };
}
