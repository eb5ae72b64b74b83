import type { NewLogEvent } from '../domain/log-event.js';
import type { RequestFacts } from './token-events.js';

/** What a logout request was about, for its log event. */
export interface LogoutFacts {
  readonly clientId: string | undefined;
  readonly clientName: string | undefined;
  readonly userId: string | undefined;
  readonly sessionId: string | undefined;
  /** Where the browser was sent after logout (returnTo / post_logout_redirect_uri), when it was. */
  readonly returnTo: string | undefined;
}

function common(logout: LogoutFacts, facts: RequestFacts) {
  return {
    clientId: logout.clientId,
    clientName: logout.clientName,
    userId: logout.userId,
    ip: facts.ip,
    userAgent: facts.userAgent,
    hostname: facts.hostname,
  };
}

/** Auth0's `slo`: the SSO session was ended by /v2/logout or /oidc/logout. */
export function logoutSuccessEvent(logout: LogoutFacts, facts: RequestFacts): NewLogEvent {
  return {
    ...common(logout, facts),
    type: 'slo',
    description: '',
    details: {
      ...(logout.returnTo !== undefined ? { return_to: logout.returnTo } : {}),
      ...(logout.sessionId !== undefined ? { session_id: logout.sessionId } : {}),
    },
  };
}

/** Auth0's `flo`: the logout request was refused (its return URL is not allowed, its hint is invalid). */
export function logoutFailureEvent(
  logout: LogoutFacts,
  facts: RequestFacts,
  description: string,
): NewLogEvent {
  return {
    ...common(logout, facts),
    type: 'flo',
    description,
    ...(logout.returnTo !== undefined ? { details: { return_to: logout.returnTo } } : {}),
  };
}
