import { InvalidGrant, InvalidRequest, InvalidScope, OAuthError } from '../../errors/oauth.js';
import { optionalString, parseScope, requiredString, type TokenParams } from '../params.js';
import { issueUserTokens } from '../tokens/user-tokens.js';
import type { GrantHandler, MfaAnswer, MfaVerification } from './types.js';

// Auth0's wording (its SDKs match on these pairs, e.g. Auth0.Android's isMultifactorCodeInvalid).
const MALFORMED = 'Malformed mfa_token';
const WRONG: Readonly<Record<MfaAnswer['type'], string>> = {
  otp: 'Invalid otp_code.',
  oob: 'Invalid binding_code.',
  'recovery-code': 'MFA Authorization rejected.',
};

function refusal(answer: MfaAnswer, reason: Exclude<MfaVerification, { ok: true }>['reason']): OAuthError {
  switch (reason) {
    case 'throttled':
      return new OAuthError(
        'too_many_attempts',
        'Too many failed codes. Wait for some minutes before retrying.',
        429,
        'throttled: the user used up their second-factor attempts',
      );
    case 'unknown':
      // The challenge's code expired, was used, or its attempts ran out: a new challenge is needed.
      return new InvalidGrant('Invalid oob_code.', 'unknown: no such oob challenge for the user');
    case 'wrong':
      return new InvalidGrant(WRONG[answer.type], `wrong: ${answer.type} answer refused`);
    default:
      return reason satisfies never;
  }
}

/**
 * One mfa-* grant: the answer is checked against the mfa_token's user, the mfa_token is then used up, and the
 * interrupted token request is finished with the tokens recording both factors (`amr`, `auth_time`).
 */
function mfaGrant(
  grantType: string,
  answerParams: readonly string[],
  answerOf: (p: TokenParams) => MfaAnswer,
) {
  const grant: GrantHandler = {
    grantType,
    // spa-js sends the interrupted request's scope and audience again.
    params: new Set(['mfa_token', ...answerParams, 'scope', 'audience']),
    async handle({ client, params, ip, userAgent, audit, jkt }, deps) {
      const mfaToken = requiredString(params, 'mfa_token');
      const answer = answerOf(params);
      const state = await deps.mfa.tokens.open(mfaToken);
      if (!state) throw new InvalidGrant(MALFORMED, 'unknown: mfa_token unknown, used or expired');
      audit.userId = state.userId;
      audit.audience = state.audience;
      if (state.clientId !== client.clientId) {
        throw new InvalidGrant(MALFORMED, `other_client: the mfa_token belongs to ${state.clientId}`);
      }
      const audience = optionalString(params, 'audience');
      if (audience !== undefined && state.audience !== undefined && audience !== state.audience) {
        throw new InvalidRequest('The audience is not the one of the request that needed MFA.');
      }
      const requested = parseScope(optionalString(params, 'scope'));
      const granted = parseScope(state.scope);
      if (requested && granted && !requested.every((s) => granted.includes(s))) {
        throw new InvalidScope('The requested scope exceeds the scope of the request that needed MFA.');
      }
      const verified = await deps.mfa.verify(mfaToken, state.userId, answer);
      if (!verified.ok) throw refusal(answer, verified.reason);
      // An mfa_token answers one token request: of two requests racing with right answers, one gets tokens.
      if (!(await deps.mfa.tokens.take(mfaToken))) {
        throw new InvalidGrant(MALFORMED, 'used: the mfa_token was used by a concurrent request');
      }
      const user = await deps.findUser(state.userId);
      if (!user) throw new InvalidGrant(MALFORMED, 'no_user: the mfa_token user is gone');
      audit.userName = user.email;
      if (user.blocked) throw new OAuthError('unauthorized', 'user is blocked', 401);
      const response = await issueUserTokens(
        {
          client,
          user,
          audience: state.audience,
          requested: requested ?? granted,
          gty: state.gty,
          from: { ip, userAgent },
          context: {
            authTime: state.authTime,
            amr: [...new Set([...state.amr, ...verified.amr])],
            ...(jkt !== undefined ? { jkt } : {}),
          },
        },
        deps,
      );
      return verified.newRecoveryCode === undefined
        ? response
        : { ...response, recovery_code: verified.newRecoveryCode };
    },
  };
  return grant;
}

/** A TOTP code from the user's authenticator app. */
export const mfaOtp = mfaGrant('http://auth0.com/oauth/grant-type/mfa-otp', ['otp'], (p) => ({
  type: 'otp',
  otp: requiredString(p, 'otp'),
}));

/** The code sent by email or text message for the challenge `oob_code` (binding method `prompt`). */
export const mfaOob = mfaGrant(
  'http://auth0.com/oauth/grant-type/mfa-oob',
  ['oob_code', 'binding_code'],
  (p) => ({
    type: 'oob',
    oobCode: requiredString(p, 'oob_code'),
    // Every channel here binds by prompt: the code the user was sent is required.
    bindingCode: requiredString(p, 'binding_code'),
  }),
);

/** A recovery code; the answer carries its replacement. */
export const mfaRecoveryCode = mfaGrant(
  'http://auth0.com/oauth/grant-type/mfa-recovery-code',
  ['recovery_code'],
  (p) => ({ type: 'recovery-code', code: requiredString(p, 'recovery_code') }),
);
