import type { NewLogEvent } from '../domain/log-event.js';
import type { RequestFacts } from './token-events.js';

/** What a prompt=none authorization knew when it answered, for its log event. */
export interface SilentAuthAttempt {
  readonly clientId: string;
  readonly clientName: string;
  readonly userId: string | undefined;
  readonly userName: string | undefined;
  readonly audience: string | undefined;
  readonly scope: string | undefined;
}

/**
 * Auth0's `ssa` (Success Silent Auth) when a prompt=none request was answered from the session, `fsa` (Failed
 * Silent Auth) when it was refused (`login_required`, `consent_required`, ...): the error is the detail.
 */
export function silentAuthEvent(
  attempt: SilentAuthAttempt,
  facts: RequestFacts,
  error: { readonly error: string; readonly error_description: string } | undefined,
): NewLogEvent {
  const base = {
    clientId: attempt.clientId,
    clientName: attempt.clientName,
    userId: attempt.userId,
    userName: attempt.userName,
    audience: attempt.audience,
    scope: attempt.scope,
    ip: facts.ip,
    userAgent: facts.userAgent,
    hostname: facts.hostname,
  };
  if (error === undefined) return { ...base, type: 'ssa', description: '' };
  return { ...base, type: 'fsa', description: error.error_description, details: { error: error.error } };
}
