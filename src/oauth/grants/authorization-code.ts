import { DpopRefused, InvalidGrant, InvalidRequest } from '../../errors/oauth.js';
import { parseScope, optionalString, requiredString } from '../params.js';
import { verifyPkce } from '../pkce.js';
import { subjectProblem } from '../tokens/subject-standing.js';
import { issueUserTokens } from '../tokens/user-tokens.js';
import type { GrantDeps, GrantHandler, TokenRequest, TokenResponse } from './types.js';

/**
 * RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.6): the code is taken for its single use, must have been issued to
 * this client for this redirect URI, and the verifier must match its challenge. A replayed code revokes the
 * refresh tokens its first use issued (RFC 6749 §4.1.2, RFC 9700 §4.5).
 */
async function exchangeCode(req: TokenRequest, deps: GrantDeps): Promise<TokenResponse> {
  const { client, params, audit } = req;
  const presented = requiredString(params, 'code');
  const taken = await deps.authorizationCodes.take(presented);
  if (taken.kind === 'reused') {
    await deps.revokeRefreshFamily(taken.refreshFamilyId, deps.nowSeconds(), 'code_reuse');
    throw new InvalidGrant('Invalid authorization code', 'code reuse: its refresh tokens are revoked');
  }
  if (taken.kind === 'unknown')
    throw new InvalidGrant('Invalid authorization code', 'unknown or expired code');
  const { code } = taken;
  audit.userId = code.userId;
  audit.audience = code.audience;
  if (code.clientId !== client.clientId)
    throw new InvalidGrant('Invalid authorization code', `code issued to another client ${code.clientId}`);
  const redirectUri = optionalString(params, 'redirect_uri');
  if ((code.redirectUriSent || redirectUri !== undefined) && redirectUri !== code.redirectUri)
    throw new InvalidGrant('The redirect_uri does not match the one of the authorization request');
  const verifier = optionalString(params, 'code_verifier');
  if (code.codeChallenge === undefined || code.codeChallengeMethod === undefined) {
    if (verifier !== undefined) throw new InvalidGrant('code_verifier sent for a code issued without PKCE');
  } else {
    if (verifier === undefined) throw new InvalidRequest('Missing required parameter: code_verifier');
    if (!verifyPkce(verifier, code.codeChallenge, code.codeChallengeMethod))
      throw new InvalidGrant('Failed to verify code verifier');
  }
  // RFC 9449 §10: a code requested with dpop_jkt is exchanged only with a proof signed by that key.
  if (code.dpopJkt !== undefined && req.jkt !== code.dpopJkt) {
    throw new DpopRefused(
      req.jkt === undefined
        ? 'The authorization code is bound to a DPoP key (dpop_jkt): send a DPoP proof signed by it'
        : 'DPoP proof key does not match the dpop_jkt of the authorization request',
    );
  }
  const user = await deps.findUser(code.userId);
  if (!user || subjectProblem(user, code.authTime) !== undefined)
    throw new InvalidGrant('Invalid authorization code', 'the user is gone or blocked');
  audit.userName = user.email ?? user.username;
  const response = await issueUserTokens(
    {
      client,
      user,
      audience: code.audience,
      requested: parseScope(code.scope),
      gty: 'authorization_code',
      from: { ip: req.ip, userAgent: req.userAgent },
      context: {
        ...(code.nonce !== undefined ? { nonce: code.nonce } : {}),
        authTime: code.authTime,
        sid: code.sid,
        ...(code.amr !== undefined ? { amr: code.amr } : {}),
        ...(code.acr !== undefined ? { acr: code.acr } : {}),
        refreshFamilyId: code.refreshFamilyId,
        ...(req.jkt !== undefined ? { jkt: req.jkt } : {}),
      },
    },
    deps,
  );
  // A replay that arrived while these tokens were being issued found nothing to revoke yet.
  if (await deps.authorizationCodes.replayed(presented)) {
    await deps.revokeRefreshFamily(code.refreshFamilyId, deps.nowSeconds(), 'code_reuse');
  }
  return response;
}

export const authorizationCode: GrantHandler = {
  grantType: 'authorization_code',
  params: new Set(['code', 'redirect_uri', 'code_verifier']),
  handle: exchangeCode,
};
