import type { NewLogEvent } from '../domain/log-event.js';
import type { LoginFailure } from '../users/authenticate.js';
import { LOGIN_FAILURE_TYPES, type RequestFacts } from './token-events.js';

/** Who tried to sign in on the hosted login page, for its log event. */
export interface LoginAttempt {
  readonly clientId: string;
  readonly clientName: string;
  readonly userName: string;
  readonly connection: string | undefined;
  readonly userId: string | undefined;
}

function common(attempt: LoginAttempt, facts: RequestFacts) {
  return {
    clientId: attempt.clientId,
    clientName: attempt.clientName,
    userId: attempt.userId,
    userName: attempt.userName,
    connection: attempt.connection,
    strategy: 'auth0',
    strategyType: 'database',
    ip: facts.ip,
    userAgent: facts.userAgent,
    hostname: facts.hostname,
  };
}

/** Auth0's `s` for a sign-in on the login page. */
export function loginSuccessEvent(attempt: LoginAttempt, facts: RequestFacts): NewLogEvent {
  return { ...common(attempt, facts), type: 's', description: '' };
}

/** Auth0's `fp`, `fu`, `f`, `limit_wc` or `limit_mu`: `description` is what the page said. */
export function loginFailureEvent(
  attempt: LoginAttempt,
  facts: RequestFacts,
  reason: LoginFailure,
  description: string,
): NewLogEvent {
  return {
    ...common(attempt, facts),
    type: LOGIN_FAILURE_TYPES[reason],
    description,
    details: { error: 'access_denied', reason },
  };
}
