import type { LogType, NewLogEvent } from '../domain/log-event.js';
import type { RequestFacts } from './token-events.js';

/** Who answered a second-factor step, and for which application. */
export interface MfaActor {
  readonly clientId: string;
  readonly clientName: string;
  readonly userId: string;
  readonly userName: string;
}

/** Auth0's Guardian events (`gd_*`); `factor` is the enrolment type, never the code. */
export function mfaEvent(
  type: Extract<LogType, `gd_${string}`>,
  actor: MfaActor,
  facts: RequestFacts,
  factor: string,
  description = '',
): NewLogEvent {
  return {
    type,
    description,
    clientId: actor.clientId,
    clientName: actor.clientName,
    userId: actor.userId,
    userName: actor.userName,
    ip: facts.ip,
    userAgent: facts.userAgent,
    hostname: facts.hostname,
    details: { factor },
  };
}
