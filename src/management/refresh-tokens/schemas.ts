import { Type, type Static } from 'typebox';
import type { RefreshTokenRecord } from '../../domain/refresh-token.js';
import { CheckpointQuery } from '../pagination.js';

export const RefreshTokenParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 300 }) });

export const UserRefreshTokensQuery = Type.Object(
  {
    ...CheckpointQuery,
    // Auth0 compat: the SDK always sends include_totals=true here; the answer is `{tokens, next}` either way.
    include_totals: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** Auth0's refresh-token item (node-auth0 `RefreshTokenResponseContent`). */
export const RefreshTokenView = Type.Object({
  id: Type.String(),
  user_id: Type.String(),
  created_at: Type.String(),
  idle_expires_at: Type.Optional(Type.String()),
  expires_at: Type.Optional(Type.String()),
  device: Type.Object({
    initial_ip: Type.Optional(Type.String()),
    initial_user_agent: Type.Optional(Type.String()),
    last_ip: Type.Optional(Type.String()),
    last_user_agent: Type.Optional(Type.String()),
  }),
  client_id: Type.String(),
  // Latchkey has no sessions yet; Auth0 answers null for tokens issued without one.
  session_id: Type.Null(),
  rotating: Type.Boolean(),
  resource_servers: Type.Array(Type.Object({ audience: Type.String(), scopes: Type.String() })),
  last_exchanged_at: Type.Optional(Type.String()),
});
export type RefreshTokenView = Static<typeof RefreshTokenView>;

export const UserRefreshTokensView = Type.Object({
  tokens: Type.Array(RefreshTokenView),
  next: Type.Optional(Type.String()),
});

const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();

export function toRefreshTokenView(t: RefreshTokenRecord): RefreshTokenView {
  const { device } = t;
  return {
    id: t.id,
    user_id: t.userId,
    created_at: iso(t.createdAt),
    ...(t.idleExpiresAt !== undefined ? { idle_expires_at: iso(t.idleExpiresAt) } : {}),
    ...(t.expiresAt !== undefined ? { expires_at: iso(t.expiresAt) } : {}),
    device: {
      ...(device.initialIp !== undefined ? { initial_ip: device.initialIp } : {}),
      ...(device.initialUserAgent !== undefined ? { initial_user_agent: device.initialUserAgent } : {}),
      ...(device.lastIp !== undefined ? { last_ip: device.lastIp } : {}),
      ...(device.lastUserAgent !== undefined ? { last_user_agent: device.lastUserAgent } : {}),
    },
    client_id: t.clientId,
    session_id: null,
    rotating: t.rotating,
    resource_servers: [{ audience: t.audience, scopes: t.scope.join(' ') }],
    ...(t.lastUsedAt !== undefined ? { last_exchanged_at: iso(t.lastUsedAt) } : {}),
  };
}
