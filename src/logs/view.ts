import type { LogEvent } from '../domain/log-event.js';

/** An event as Auth0's `GET /api/v2/logs` returns it (and as log streams deliver it): absent fields left out. */
export function toLogView(event: LogEvent): Record<string, unknown> {
  const view: Record<string, unknown> = {
    log_id: event.logId,
    date: new Date(event.at).toISOString(),
    type: event.type,
    description: event.description ?? '',
  };
  const optional: [string, unknown][] = [
    ['client_id', event.clientId],
    ['client_name', event.clientName],
    ['connection', event.connection],
    ['connection_id', event.connectionId],
    ['strategy', event.strategy],
    ['strategy_type', event.strategyType],
    ['user_id', event.userId],
    ['user_name', event.userName],
    ['audience', event.audience],
    ['scope', event.scope],
    ['ip', event.ip],
    ['user_agent', event.userAgent],
    ['hostname', event.hostname],
    ['details', event.details],
  ];
  for (const [name, value] of optional) if (value !== undefined) view[name] = value;
  view['isMobile'] = false;
  return view;
}
