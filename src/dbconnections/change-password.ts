import type { FastifyBaseLogger } from 'fastify';
import type { Client } from '../domain/client.js';
import type { Connection } from '../domain/connection.js';
import { ownIdentity } from '../domain/user.js';
import type { RequestFacts } from '../logs/token-events.js';
import type { Deps } from '../server/deps.js';
import { sendPasswordResetEmail } from '../users/account-links.js';

export interface PasswordResetRequest {
  readonly client: Client;
  /** The database connection, already checked to be enabled for the client. */
  readonly connection: Connection;
  /** Lower-cased. */
  readonly email: string;
  readonly facts: RequestFacts;
  readonly log: FastifyBaseLogger;
}

/**
 * Emails a password-reset link to the connection's user with this address, if there is one (/dbconnections/
 * change_password and the hosted "forgot your password" page). Returns at once either way, so the caller's
 * answer cannot tell whether the address has an account; the outcome is in the tenant logs (scpr / fcpr).
 */
export async function requestPasswordReset(deps: Deps, input: PasswordResetRequest): Promise<void> {
  const { client, connection, email, facts } = input;
  const user = (await deps.store.users.findByEmail(email)).find(
    (u) => ownIdentity(u).connection === connection.name,
  );
  const event = {
    clientId: client.clientId,
    clientName: client.name,
    connection: connection.name,
    connectionId: connection.id,
    strategy: 'auth0',
    strategyType: 'database',
    userName: email,
    ...facts,
  };
  if (user) {
    // Sent in the background: a known address must not answer more slowly than an unknown one.
    void sendPasswordResetEmail(deps, user, { clientId: client.clientId })
      .then(() => {
        deps.events.record({
          type: 'scpr',
          description: 'Password reset email sent',
          userId: user.userId,
          ...event,
        });
      })
      .catch((error: unknown) => {
        input.log.warn({ err: error }, 'password reset email failed');
        deps.events.record({
          type: 'fcpr',
          description: 'Password reset email could not be sent',
          userId: user.userId,
          ...event,
        });
      });
  } else {
    deps.events.record({ type: 'fcpr', description: 'No user with this email', ...event });
  }
}
