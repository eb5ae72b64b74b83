import { DpopRefused, InvalidGrant, InvalidScope, MfaRequired, OAuthError } from '../../errors/oauth.js';
import { optionalString, parseScope, requiredString } from '../params.js';
import { refreshPolicy, underPolicy } from '../tokens/refresh-policy.js';
import { hashRefreshToken, issueUserTokens } from '../tokens/user-tokens.js';
import type { GrantHandler } from './types.js';

const UNKNOWN = 'Unknown or invalid refresh token.';

/**
 * RFC 6749 §6 with rotation and reuse detection (RFC 9700 §4.14.2). Every refusal answers the same; its
 * `detail` starts with the reason (unknown, other_client, revoked, expired, idle_expired, reuse, no_user),
 * for logs.
 */
export const refreshToken: GrantHandler = {
  grantType: 'refresh_token',
  params: new Set(['refresh_token', 'scope']),
  async handle({ client, params, ip, userAgent, audit, jkt }, deps) {
    const presented = requiredString(params, 'refresh_token');
    const found = await deps.findRefreshToken(hashRefreshToken(presented));
    const now = deps.nowSeconds();
    if (!found) throw new InvalidGrant(UNKNOWN, 'unknown: no such refresh token');
    audit.userId = found.userId;
    audit.audience = found.audience;
    if (found.clientId !== client.clientId)
      throw new InvalidGrant(UNKNOWN, `other_client: refresh token ${found.id} belongs to another client`);
    if (found.revokedAt !== undefined)
      throw new InvalidGrant(
        UNKNOWN,
        `revoked: refresh token ${found.id} (${found.revokedReason ?? 'revoked'})`,
      );
    const policy = refreshPolicy(client);
    const record = underPolicy(found, policy);
    if (record.expiresAt !== undefined && record.expiresAt <= now)
      throw new InvalidGrant(UNKNOWN, `expired: refresh token ${record.id}`);
    if (record.idleExpiresAt !== undefined && record.idleExpiresAt <= now)
      throw new InvalidGrant(UNKNOWN, `idle_expired: refresh token ${record.id}`);
    if (record.rotatedAt !== undefined && (policy.leeway === 0 || now - record.rotatedAt > policy.leeway)) {
      // A token already replaced by rotation, used again outside the leeway, has leaked: end its whole family.
      await deps.revokeRefreshFamily(record.familyId, now, 'reuse');
      throw new InvalidGrant(UNKNOWN, `reuse: rotated refresh token ${record.id} presented again`);
    }
    // RFC 9449 §5: a bound refresh token is exchanged only with a proof signed by its key.
    if (record.jkt !== undefined && jkt !== record.jkt) {
      throw new DpopRefused(
        jkt === undefined
          ? 'The refresh token is bound to a DPoP key: send a DPoP proof signed by it'
          : 'DPoP proof key does not match the key the refresh token is bound to',
      );
    }
    const requested = parseScope(optionalString(params, 'scope'));
    if (requested && !requested.every((s) => record.scope.includes(s))) {
      throw new InvalidScope('The requested scope exceeds the scope originally granted.');
    }
    const user = await deps.findUser(record.userId);
    if (!user) throw new InvalidGrant(UNKNOWN, `no_user: the user of refresh token ${record.id} is gone`);
    if (user.blocked) throw new OAuthError('unauthorized', 'user is blocked', 401);
    const userinfo = `${deps.issuer}userinfo`;
    const audience = record.audience === userinfo ? undefined : record.audience;
    // The policy asks for a second factor the refresh token's sign-in never gave: the client finishes it
    // through the MFA API (auth0-spa-js throws MfaRequiredError). The family stays valid.
    if (record.amr?.includes('mfa') !== true && (await deps.mfa.required())) {
      const mfaToken = await deps.mfa.tokens.issue({
        userId: user.userId,
        clientId: client.clientId,
        audience,
        scope: (requested ?? record.scope).join(' '),
        gty: 'refresh_token',
        authTime: now,
        amr: record.amr ?? [],
      });
      throw new MfaRequired(
        mfaToken,
        `mfa_required: refresh token ${record.id} was issued without a second factor`,
      );
    }
    // Seed 002: an omitted scope means exactly the scopes originally granted.
    return issueUserTokens(
      {
        client,
        user,
        audience,
        requested: requested ?? [...record.scope],
        gty: 'refresh_token',
        from: { ip, userAgent },
        ...(jkt !== undefined ? { context: { jkt } } : {}),
        refresh: record,
      },
      deps,
    );
  },
};
