import { InvalidGrant, InvalidScope, OAuthError } from '../../errors/oauth.js';
import { optionalString, parseScope, requiredString } from '../params.js';
import { hashRefreshToken, issueUserTokens, refreshSettings } from '../tokens/user-tokens.js';
import type { GrantHandler } from './types.js';

const UNKNOWN = 'Unknown or invalid refresh token.';

/** RFC 6749 §6 with rotation and reuse detection (RFC 9700 §4.14.2). */
export const refreshToken: GrantHandler = {
  grantType: 'refresh_token',
  params: new Set(['refresh_token', 'scope']),
  async handle({ client, params }, deps) {
    const presented = requiredString(params, 'refresh_token');
    const record = await deps.findRefreshToken(hashRefreshToken(presented));
    const now = deps.nowSeconds();
    if (!record || record.clientId !== client.clientId || record.revokedAt !== undefined)
      throw new InvalidGrant(UNKNOWN);
    if (
      (record.expiresAt !== undefined && record.expiresAt <= now) ||
      (record.idleExpiresAt !== undefined && record.idleExpiresAt <= now)
    ) {
      throw new InvalidGrant(UNKNOWN);
    }
    if (record.rotating && record.rotatedAt !== undefined) {
      // A rotated token used again outside the leeway (0 = no leeway) means it leaked: revoke the whole family.
      const leeway = refreshSettings(client).leeway ?? 0;
      if (leeway === 0 || now - record.rotatedAt > leeway) {
        await deps.revokeRefreshFamily(record.familyId, now);
        throw new InvalidGrant(UNKNOWN, `reuse of rotated refresh token ${record.id}`);
      }
    }
    const requested = parseScope(optionalString(params, 'scope'));
    if (requested && !requested.every((s) => record.scope.includes(s))) {
      throw new InvalidScope('The requested scope exceeds the scope originally granted.');
    }
    const user = await deps.findUser(record.userId);
    if (!user) throw new InvalidGrant(UNKNOWN);
    if (user.blocked) throw new OAuthError('unauthorized', 'user is blocked', 401);
    const userinfo = `${deps.issuer}userinfo`;
    // Seed 002: an omitted scope means exactly the scopes originally granted.
    return issueUserTokens(
      {
        client,
        user,
        audience: record.audience === userinfo ? undefined : record.audience,
        requested: requested ?? [...record.scope],
        gty: 'refresh_token',
        refresh: record,
      },
      deps,
    );
  },
};
