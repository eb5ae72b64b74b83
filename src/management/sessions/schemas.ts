import { Type, type Static } from 'typebox';
import type { SessionWithClients } from './service.js';
import { CheckpointQuery } from '../pagination.js';

export const SessionParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 300 }) });

export const UserSessionsQuery = Type.Object(
  {
    ...CheckpointQuery,
    // Auth0 compat: the auth0 v7 SDK always sends include_totals=true here; the answer is `{sessions, next}`.
    include_totals: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/**
 * Auth0's session object (GET /api/v2/sessions/{id}), with the fields Latchkey keeps. Not kept: the device's
 * ASNs and last address (a session records where it began), `session_metadata`.
 */
export const SessionView = Type.Object({
  id: Type.String(),
  user_id: Type.String(),
  created_at: Type.String(),
  updated_at: Type.String(),
  authenticated_at: Type.String(),
  idle_expires_at: Type.String(),
  expires_at: Type.String(),
  last_interacted_at: Type.String(),
  device: Type.Object({
    initial_ip: Type.Optional(Type.String()),
    initial_user_agent: Type.Optional(Type.String()),
  }),
  clients: Type.Array(Type.Object({ client_id: Type.String() })),
  authentication: Type.Object({
    methods: Type.Array(Type.Object({ name: Type.String(), timestamp: Type.String() })),
  }),
  cookie: Type.Object({ mode: Type.String() }),
});
export type SessionView = Static<typeof SessionView>;

export const UserSessionsView = Type.Object({
  sessions: Type.Array(SessionView),
  next: Type.Optional(Type.String()),
});

const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();

export function toSessionView(s: SessionWithClients): SessionView {
  return {
    id: s.id,
    user_id: s.userId,
    created_at: iso(s.createdAt),
    updated_at: iso(s.lastInteractionAt),
    authenticated_at: iso(s.authenticatedAt),
    idle_expires_at: iso(s.idleExpiresAt),
    expires_at: iso(s.expiresAt),
    last_interacted_at: iso(s.lastInteractionAt),
    device: {
      ...(s.ip !== undefined ? { initial_ip: s.ip } : {}),
      ...(s.userAgent !== undefined ? { initial_user_agent: s.userAgent } : {}),
    },
    clients: s.clients.map((clientId) => ({ client_id: clientId })),
    // The hosted login page signs in with a password only.
    authentication: { methods: [{ name: 'pwd', timestamp: iso(s.authenticatedAt) }] },
    // The `auth0` cookie carries Max-Age: it outlives the browser's own session.
    cookie: { mode: 'persistent' },
  };
}
