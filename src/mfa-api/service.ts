import { createHash } from 'node:crypto';
import type { MfaEnrolment, MfaEnrolmentType } from '../domain/mfa-enrolment.js';
import { AccessDenied, InvalidRequest, OAuthError } from '../errors/oauth.js';
import { guardianConfig, type GuardianFactor } from '../mfa/guardian.js';
import { createMfaTokens, type MfaTokenState } from '../mfa/mfa-token.js';
import { checkOobCode, oobTargetOf, sendOobCode, type OobTarget } from '../mfa/oob.js';
import { hashRecoveryCode, newRecoveryCode } from '../mfa/recovery-code.js';
import {
  AMR_OF_TYPE,
  checkPendingTotp,
  checkTotp,
  FACTOR_OF_TYPE,
  mfaRequired,
  pendingEnrolment,
  redeemRecoveryCode,
  usableFactors,
} from '../mfa/second-factor.js';
import { newTotpSecret, totpUri } from '../mfa/totp.js';
import { passkeyUserLabel, tenantDisplayName } from '../myaccount/service.js';
import type { MfaAnswer, MfaGrantDeps, MfaVerification } from '../oauth/grants/types.js';
import type { Deps } from '../server/deps.js';
import type { WarningLog } from '../server/failed-auth-limit.js';
import { SmsNotSent } from '../sms/sender.js';

/** An authenticator as Auth0's GET /mfa/authenticators lists it (spec 1.9). */
export interface AuthenticatorView {
  readonly id: string;
  readonly authenticator_type: 'otp' | 'oob' | 'recovery-code';
  readonly active: boolean;
  readonly oob_channel?: 'email' | 'sms' | 'voice';
  readonly name?: string;
}

export type OobChannel = 'sms' | 'voice' | 'email';

export interface AssociateRequest {
  readonly authenticatorType: 'otp' | 'oob';
  readonly oobChannel?: OobChannel;
  readonly phoneNumber?: string;
  readonly email?: string;
}

/**
 * The enrolment an mfa_token started at /mfa/associate, kept beside the token (under its hash) until the first
 * right answer confirms it, with the recovery code Auth0 hands out with a user's first factor.
 */
interface Association {
  readonly enrolmentId: string;
  readonly recoveryId?: string;
}

/** Auth0's wording for an mfa_token it does not know (unknown, used or expired). */
export const MALFORMED_TOKEN = 'Malformed mfa_token';
const ASSOCIATION_KEY = 'mfa:associate:';
const associationKey = (mfaToken: string) =>
  `${ASSOCIATION_KEY}${createHash('sha256').update(mfaToken).digest('base64url')}`;
const E164 = /^\+[1-9]\d{6,14}$/;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

export function toAuthenticatorView(e: MfaEnrolment): AuthenticatorView {
  const name = e.name === undefined ? {} : { name: e.name };
  switch (e.type) {
    case 'totp':
      return { id: e.id, authenticator_type: 'otp', active: e.confirmed, ...name };
    case 'recovery-code':
      return { id: e.id, authenticator_type: 'recovery-code', active: e.confirmed };
    case 'email':
      return { id: e.id, authenticator_type: 'oob', active: e.confirmed, oob_channel: 'email', ...name };
    case 'phone':
      return {
        id: e.id,
        authenticator_type: 'oob',
        active: e.confirmed,
        oob_channel: e.channel ?? 'sms',
        ...name,
      };
    default:
      return e.type satisfies never;
  }
}

/** Auth0's MFA API for embedded and native apps, over the shared second-factor core (src/mfa). */
export function createMfaApi(deps: Deps, log: WarningLog) {
  const nowSeconds = () => Math.floor(deps.clock.now() / 1000);
  const tokens = createMfaTokens(deps.oneTime, nowSeconds);
  const iso = () => new Date(deps.clock.now()).toISOString();

  const readAssociation = async (mfaToken: string): Promise<Association | undefined> => {
    const raw = await deps.oneTime.peek(associationKey(mfaToken));
    return raw === undefined ? undefined : (JSON.parse(raw) as Association);
  };

  /** The enrolment the token started, while still pending. */
  const pendingOf = async (mfaToken: string, userId: string): Promise<MfaEnrolment | undefined> => {
    const association = await readAssociation(mfaToken);
    if (!association) return undefined;
    const e = await deps.store.mfaEnrolments.findForUser(userId, association.enrolmentId);
    return e && !e.confirmed ? e : undefined;
  };

  /**
   * The first right answer makes the pending enrolment a factor, with the recovery code its association
   * handed out.
   */
  const confirmPending = async (mfaToken: string, userId: string, enrolmentId: string) => {
    const association = await readAssociation(mfaToken);
    const recoveryId = association?.enrolmentId === enrolmentId ? association.recoveryId : undefined;
    const at = iso();
    await deps.store.transaction(async (repos) => {
      await repos.mfaEnrolments.confirm(userId, enrolmentId, at);
      if (recoveryId !== undefined) await repos.mfaEnrolments.confirm(userId, recoveryId, at);
    });
    if (association?.enrolmentId === enrolmentId) await deps.oneTime.takeOnce(associationKey(mfaToken));
    deps.invalidation.userChanged(userId, 'passkeys');
  };

  const enabledFactors = async (): Promise<readonly GuardianFactor[]> =>
    guardianConfig(await deps.lookups.tenantSettings()).enabled;

  async function verifyOtp(mfaToken: string, userId: string, otp: string): Promise<MfaVerification> {
    const pending = await pendingOf(mfaToken, userId);
    if (pending?.type !== 'totp') {
      const check = await checkTotp(deps, userId, otp, log);
      return check.ok ? { ok: true, amr: check.amr } : { ok: false, reason: check.reason };
    }
    const checked = await checkPendingTotp(deps, pending, otp, log);
    if (checked !== 'ok') return { ok: false, reason: checked };
    await confirmPending(mfaToken, userId, pending.id);
    return { ok: true, amr: [AMR_OF_TYPE.totp, 'mfa'] };
  }

  async function verifyOob(
    mfaToken: string,
    userId: string,
    answer: Extract<MfaAnswer, { type: 'oob' }>,
  ): Promise<MfaVerification> {
    const check = await checkOobCode(deps, userId, answer.oobCode, answer.bindingCode.trim(), log);
    if (!check.ok) return check;
    const enrolment = await deps.store.mfaEnrolments.findForUser(userId, check.enrolmentId);
    // The factor was removed, or the tenant turned it off, while the code travelled.
    if (!enrolment || !(await enabledFactors()).includes(FACTOR_OF_TYPE[enrolment.type])) {
      return { ok: false, reason: 'unknown' };
    }
    if (enrolment.confirmed) {
      await deps.store.mfaEnrolments.touch(userId, enrolment.id, iso());
    } else {
      await confirmPending(mfaToken, userId, enrolment.id);
    }
    return { ok: true, amr: [AMR_OF_TYPE[enrolment.type], 'mfa'] };
  }

  const grantDeps: MfaGrantDeps = {
    required: async () => mfaRequired(guardianConfig(await deps.lookups.tenantSettings()), undefined),
    tokens,
    async verify(mfaToken, userId, answer) {
      switch (answer.type) {
        case 'otp':
          return verifyOtp(mfaToken, userId, answer.otp);
        case 'oob':
          return verifyOob(mfaToken, userId, answer);
        case 'recovery-code': {
          const r = await redeemRecoveryCode(deps, userId, answer.code, log);
          return r.ok
            ? { ok: true, amr: r.amr, newRecoveryCode: r.newCode }
            : { ok: false, reason: r.reason };
        }
        default:
          return answer satisfies never;
      }
    },
  };

  /** Sends a code to an email or phone enrolment; a gateway that refuses is the caller's 503. */
  async function sendCode(target: OobTarget): Promise<string> {
    try {
      return await sendOobCode(deps, target);
    } catch (error) {
      if (!(error instanceof SmsNotSent)) throw error;
      throw new OAuthError(
        'temporarily_unavailable',
        'The text message could not be sent.',
        503,
        error.message,
      );
    }
  }

  return {
    grantDeps,
    tokens,

    async authenticators(state: MfaTokenState): Promise<AuthenticatorView[]> {
      return (await usableFactors(deps, state.userId)).map(toAuthenticatorView);
    },

    /**
     * Removes one of the user's factors. An mfa_token proves only the first factor, so it may not remove the
     * user's last factor: that would let a stolen password take the account's MFA away (Auth0 asks for a
     * token that passed MFA for any removal).
     */
    async removeAuthenticator(state: MfaTokenState, id: string): Promise<void> {
      const factors = await usableFactors(deps, state.userId);
      const found = factors.find((e) => e.id === id);
      if (!found) throw new OAuthError('not_found', 'Authenticator not found.', 404);
      const others = factors.filter((e) => e.id !== id && e.type !== 'recovery-code');
      if (found.type !== 'recovery-code' && others.length === 0) {
        throw new AccessDenied(
          'The last authenticator cannot be removed without completing multifactor authentication.',
        );
      }
      await deps.store.mfaEnrolments.delete(state.userId, id);
      deps.invalidation.userChanged(state.userId, 'passkeys');
    },

    /** Starts an enrolment for a user with no factor yet (Auth0: otherwise "User is already enrolled"). */
    async associate(mfaToken: string, state: MfaTokenState, request: AssociateRequest) {
      const user = await deps.store.users.findById(state.userId);
      if (!user) throw new OAuthError('invalid_token', MALFORMED_TOKEN, 401);
      if ((await usableFactors(deps, user.userId)).length > 0)
        throw new AccessDenied('User is already enrolled.');
      const enabled = await enabledFactors();
      const type: MfaEnrolmentType =
        request.authenticatorType === 'otp' ? 'totp' : request.oobChannel === 'email' ? 'email' : 'phone';
      if (!enabled.includes(FACTOR_OF_TYPE[type])) {
        throw new AccessDenied(`The ${FACTOR_OF_TYPE[type]} factor is not enabled for this tenant.`);
      }
      const address = addressOf(type, request, user.email);
      const secret = type === 'totp' ? newTotpSecret() : undefined;
      const recoveryCode = enabled.includes('recovery-code') ? newRecoveryCode() : undefined;
      const at = iso();
      const enrolment = pendingEnrolment(user.userId, type, at, {
        ...(secret !== undefined ? { secret } : {}),
        ...(address !== undefined ? { address } : {}),
        ...(type === 'phone' ? { channel: request.oobChannel === 'voice' ? 'voice' : 'sms' } : {}),
      });
      const recoveryRow =
        recoveryCode === undefined
          ? undefined
          : pendingEnrolment(user.userId, 'recovery-code', at, { codeHash: hashRecoveryCode(recoveryCode) });
      const id = enrolment.id;
      const recoveryId = recoveryRow?.id;
      await deps.store.transaction(async (repos) => {
        await repos.mfaEnrolments.replacePending(enrolment);
        if (recoveryRow) await repos.mfaEnrolments.replacePending(recoveryRow);
      });
      const association: Association = {
        enrolmentId: id,
        ...(recoveryId !== undefined ? { recoveryId } : {}),
      };
      await deps.oneTime.takeOnce(associationKey(mfaToken));
      await deps.oneTime.putOnce(
        associationKey(mfaToken),
        JSON.stringify(association),
        Math.max(1, state.expiresAt - nowSeconds()),
      );
      const recovery = recoveryCode === undefined ? {} : { recovery_codes: [recoveryCode] };
      if (type === 'totp') {
        const issuer = tenantDisplayName(await deps.lookups.tenantSettings(), deps.tenantId);
        return {
          authenticator_type: 'otp' as const,
          secret: secret ?? '',
          barcode_uri: totpUri(issuer, passkeyUserLabel(user), secret ?? ''),
          ...recovery,
        };
      }
      const target = oobTargetOf(enrolment);
      if (!target) throw new InvalidRequest('The authenticator has no address.');
      return {
        authenticator_type: 'oob' as const,
        oob_channel: request.oobChannel ?? 'sms',
        oob_code: await sendCode(target),
        binding_method: 'prompt' as const,
        ...recovery,
      };
    },

    /** Auth0's /mfa/challenge: which answer the grant should expect, and for oob the code sent. */
    async challenge(
      mfaToken: string,
      state: MfaTokenState,
      challengeType: 'otp' | 'oob',
      authenticatorId: string | undefined,
      oobChannel: string | undefined,
    ) {
      const pending = await pendingOf(mfaToken, state.userId);
      const candidates = [...(await usableFactors(deps, state.userId)), ...(pending ? [pending] : [])].filter(
        (e) => authenticatorId === undefined || e.id === authenticatorId,
      );
      if (authenticatorId !== undefined && candidates.length === 0) {
        throw new OAuthError('not_found', 'Authenticator not found.', 404);
      }
      if (challengeType === 'otp') {
        if (!candidates.some((e) => e.type === 'totp')) {
          throw new OAuthError('unsupported_challenge_type', 'User is not enrolled with otp.', 400);
        }
        return { challenge_type: 'otp' as const };
      }
      const target = candidates
        .filter((e) => oobChannel === undefined || toAuthenticatorView(e).oob_channel === oobChannel)
        .map(oobTargetOf)
        .find((t) => t !== undefined);
      if (!target) throw new OAuthError('unsupported_challenge_type', 'User is not enrolled with oob.', 400);
      return {
        challenge_type: 'oob' as const,
        oob_code: await sendCode(target),
        binding_method: 'prompt' as const,
      };
    },
  };
}
export type MfaApi = ReturnType<typeof createMfaApi>;

function addressOf(type: MfaEnrolmentType, request: AssociateRequest, userEmail: string | undefined) {
  if (type === 'phone') {
    const phone = request.phoneNumber;
    if (phone === undefined) throw new InvalidRequest('Missing required parameter: phone_number');
    if (!E164.test(phone))
      throw new InvalidRequest('phone_number must be an E.164 number, e.g. +14155550100.');
    return phone;
  }
  if (type === 'email') {
    const email = request.email ?? userEmail;
    if (email === undefined) throw new InvalidRequest('Missing required parameter: email');
    if (!EMAIL.test(email)) throw new InvalidRequest('email must be an email address.');
    return email;
  }
  return undefined;
}
