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
    const record = await deps.refreshTokens.findByHash(hashRefreshToken(presented));
    const now = deps.nowSeconds();
    if (!record || record.clientId !== client.clientId || record.revokedAt !== undefined)
      throw new InvalidGrant(UNKNOWN);
    if (
      (record.expiresAt !== undefined && record.expiresAt <= now) ||
      (record.idleExpiresAt !== undefined && record.idleExpiresAt <= now)
    ) {
      throw new InvalidGrant(UNKNOWN);
    }
    const settings = refreshSettings(client);
    if (record.rotating && record.rotatedAt !== undefined) {
      // A rotated token used again outside the leeway (0 = no leeway) means it leaked: revoke the whole family.
      const leeway = settings.leeway ?? 0;
      if (leeway === 0 || now - record.rotatedAt > leeway) {
        await deps.refreshTokens.revokeFamily(record.familyId, now);
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
    if (
      record.rotating &&
      record.rotatedAt === undefined &&
      !(await deps.refreshTokens.markRotated(record.id, now))
    ) {
      // Two requests raced with the same token: the loser is a reuse.
      await deps.refreshTokens.revokeFamily(record.familyId, now);
      throw new InvalidGrant(UNKNOWN);
    }
    if (!record.rotating) {
      const idle = settings.expiration_type === 'expiring' && settings.infinite_idle_token_lifetime !== true;
      await deps.refreshTokens.touch(
        record.id,
        now,
        idle ? now + (settings.idle_token_lifetime ?? 1_296_000) : undefined,
      );
    }
    const userinfo = `${deps.issuer}userinfo`;
    // Seed 002: an omitted scope means exactly the scopes originally granted.
    return issueUserTokens(
      {
        client,
        user,
        audience: record.audience === userinfo ? undefined : record.audience,
        requested: requested ?? [...record.scope],
        gty: 'refresh_token',
        refresh: { familyId: record.familyId, rotate: record.rotating, expiresAt: record.expiresAt },
      },
      deps,
    );
  },
};
