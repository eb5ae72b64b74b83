import type { MfaEnrolment, MfaEnrolmentType } from '../domain/mfa-enrolment.js';
import type { User } from '../domain/user.js';
import { BadRequest, Conflict, TooManyRequests } from '../errors/api.js';
import { guardianConfig } from '../mfa/guardian.js';
import { createPasswordMethod, NEW_PASSWORD_ID } from './password.js';
import { checkOobCode, sendOobCode } from '../mfa/oob.js';
import { FACTOR_OF_TYPE, newEnrolmentId, pendingEnrolment } from '../mfa/second-factor.js';
import { hashRecoveryCode, newRecoveryCode } from '../mfa/recovery-code.js';
import { acceptTotpCode, newTotpSecret, totpUri } from '../mfa/totp.js';
import type { Deps } from '../server/deps.js';
import type { WarningLog } from '../server/failed-auth-limit.js';
import { MailNotSent } from '../mail/sender.js';
import { SmsNotSent } from '../sms/sender.js';
import {
  invalidSession,
  openAuthSession,
  restoreAuthSession,
  takeAuthSession,
  type AuthSession,
} from './auth-session.js';
import {
  MAX_METHODS,
  methodNotFound,
  tenantDisplayName,
  type EnrolmentStart,
  type MyAccountService,
} from './service.js';

/** Wrong one-time codes one auth_session survives; the next wrong one ends the enrolment. */
export const MAX_OTP_ATTEMPTS = 5;

/** The guardian factor that must be on for each second-factor type enrolled here. */
const FACTOR_OF = FACTOR_OF_TYPE;
const isFactorType = (type: string): type is MfaEnrolmentType =>
  type === 'totp' || type === 'recovery-code' || type === 'email' || type === 'phone';
const typeOfId = (id: string): MfaEnrolmentType | undefined => {
  const type = id.slice(0, id.indexOf('|'));
  return isFactorType(type) ? type : undefined;
};

interface FactorSession extends AuthSession {
  /** The pending method this session verifies. */
  readonly methodId: string;
  readonly attempts: number;
  /** Email and phone: the challenge whose code was sent (mfa/oob.ts); never shown to the client. */
  readonly oobCode?: string;
}

/** The start fields (spec 3.3) each type takes besides `type`; the first one listed is required. */
const FIELDS_OF_TYPE: Readonly<Record<string, readonly string[]>> = {
  passkey: ['connection', 'identity_user_id', 'use_exclude_credentials'],
  totp: [],
  'recovery-code': [],
  email: ['email'],
  phone: ['phone_number', 'preferred_authentication_method'],
  password: ['connection', 'identity_user_id'],
};

/** Refuses a field that belongs to another type's body, and a missing email or phone number. */
function assertFieldsOf(body: EnrolmentStart): void {
  const allowed = FIELDS_OF_TYPE[body.type];
  if (allowed === undefined) return;
  const extra = Object.keys(body).filter((key) => key !== 'type' && !allowed.includes(key));
  if (extra.length > 0) {
    throw new BadRequest(
      'invalid_body',
      `Payload validation error: ${body.type} takes no ${extra.join(', ')}.`,
    );
  }
  const required = body.type === 'email' || body.type === 'phone' ? allowed[0] : undefined;
  if (required !== undefined && !(required in body)) {
    throw new BadRequest('invalid_body', `Payload validation error: ${required} is required.`);
  }
}

export interface MethodPatch {
  readonly name?: string;
  readonly preferred_authentication_method?: 'sms' | 'voice';
}

export type VerifyBody =
  | { auth_session: string; authn_response: unknown }
  | { auth_session: string; new_password: string }
  | { auth_session: string; otp_code: string }
  | { auth_session: string };

/** Where an email or phone method's codes go (spec 3.2: `email`; `phone_number`, `preferred_authentication_method`). */
function addressFields(e: MfaEnrolment): Record<string, unknown> {
  if (e.type === 'email') return { email: e.address ?? '' };
  if (e.type === 'phone') {
    return { phone_number: e.address ?? '', preferred_authentication_method: e.channel ?? 'sms' };
  }
  return {};
}

/** MFA-style method (spec 3.2): `usage: ["secondary"]`, `confirmed`; recovery codes have no name. */
export function factorMethodView(e: MfaEnrolment): Record<string, unknown> {
  return {
    id: e.id,
    type: e.type,
    usage: ['secondary'],
    created_at: e.createdAt,
    confirmed: e.confirmed,
    ...addressFields(e),
    ...(e.name === undefined || e.type === 'recovery-code' ? {} : { name: e.name }),
    ...(e.lastAuthAt === undefined ? {} : { last_auth_at: e.lastAuthAt }),
  };
}

/** The Management API's authenticator view (GET /api/v2/users/{id}/authentication-methods, spec 4). */
export function managementFactorView(e: MfaEnrolment): Record<string, unknown> {
  return {
    id: e.id,
    type: e.type,
    confirmed: e.confirmed,
    created_at: e.createdAt,
    ...addressFields(e),
    ...(e.name === undefined || e.type === 'recovery-code' ? {} : { name: e.name }),
    ...(e.enrolledAt === undefined ? {} : { enrolled_at: e.enrolledAt }),
    ...(e.lastAuthAt === undefined ? {} : { last_auth_at: e.lastAuthAt }),
  };
}

const wrongCode = () => new BadRequest('invalid_body', 'The otp_code is invalid or was already used.');
const expiredCode = () =>
  new BadRequest('invalid_body', 'The otp_code has expired; start the enrolment again for a new one.');
/**
 * A 400 rather than a 5xx: spec 3.1 lists 400 (not 502/503) among this endpoint's answers, Auth0's Guardian
 * reports the same trouble as the client-visible `error_sending_sms`, and the address itself is a common
 * cause (gateways refuse numbers and mailboxes they cannot reach). The operator reads the reason in the log.
 */
const codeNotSent = (type: 'email' | 'phone') =>
  new BadRequest(
    type === 'phone' ? 'error_sending_sms' : 'error_sending_email',
    `The code could not be sent to this ${type === 'phone' ? 'phone number' : 'email address'}; nothing was enrolled. Check the ${type === 'phone' ? 'number' : 'address'} or try again later.`,
  );
/** The user's throttle refuses until its window ends (fixed windows, server/failed-auth-limit.ts). */
const throttled = (deps: Deps) => {
  const { windowSeconds } = deps.failedSecondFactors.limit;
  const nowSeconds = Math.floor(deps.clock.now() / 1000);
  const reset = (Math.floor(nowSeconds / windowSeconds) + 1) * windowSeconds;
  return new TooManyRequests(
    'Too many wrong codes for this user; wait a few minutes before trying again.',
    reset - nowSeconds,
  );
};

/** The tenant's factors as `GET /me/v1/factors` lists them: passkeys, and the second factors it enables. */
export async function enabledFactors(deps: Deps): Promise<{ type: string; usage: string[] }[]> {
  const { enabled } = guardianConfig(await deps.lookups.tenantSettings());
  // Spec 3.1's type order.
  const secondary = (['totp', 'phone', 'email', 'recovery-code'] as const)
    .filter((type) => enabled.includes(FACTOR_OF[type]))
    .map((type) => ({ type, usage: ['secondary'] }));
  return [{ type: 'passkey', usage: ['primary'] }, ...secondary];
}

/** TOTP, recovery-code, email and phone enrolment (spec 3.3, 3.4) for the token's user. */
export function createFactorService(deps: Deps, log: WarningLog) {
  const now = () => deps.clock.now();
  const iso = () => new Date(now()).toISOString();

  async function confirmedOf(user: User, id: string): Promise<MfaEnrolment> {
    const found = typeOfId(id) ? await deps.store.mfaEnrolments.findForUser(user.userId, id) : undefined;
    if (!found?.confirmed) throw methodNotFound();
    return found;
  }

  async function requireEnabled(type: MfaEnrolmentType): Promise<void> {
    const { enabled } = guardianConfig(await deps.lookups.tenantSettings());
    if (!enabled.includes(FACTOR_OF[type])) {
      throw new BadRequest('invalid_body', `The ${type} factor is not enabled for this tenant.`);
    }
  }

  /**
   * Email and phone: the code goes out first and the pending method is written only once it did, so a gateway
   * that refuses leaves nothing behind. The challenge's oob_code stays inside the auth_session.
   */
  async function startOob(
    user: User,
    type: 'email' | 'phone',
    id: string,
    body: EnrolmentStart,
  ): Promise<{ id: string; auth_session: string }> {
    const address = (type === 'email' ? body.email : body.phone_number) ?? '';
    const channel = type === 'phone' ? (body.preferred_authentication_method ?? 'sms') : undefined;
    let oobCode: string;
    try {
      oobCode = await sendOobCode(deps, { userId: user.userId, enrolmentId: id, type, address, channel });
    } catch (error) {
      if (!(error instanceof SmsNotSent) && !(error instanceof MailNotSent)) throw error;
      log.warn(`My Account ${type} enrolment: ${error.message}`);
      throw codeNotSent(type);
    }
    await deps.store.mfaEnrolments.replacePending(
      pendingEnrolment(user.userId, type, iso(), {
        id,
        address,
        ...(channel === undefined ? {} : { channel }),
      }),
    );
    const authSession = await openAuthSession<FactorSession>(
      deps,
      { userId: user.userId, type, methodId: id, attempts: 0, oobCode },
      now(),
    );
    return { id, auth_session: authSession };
  }

  /**
   * The code sent at the start (mfa/oob.ts: five minutes, five tries, the user's throttle on every node). A
   * wrong code keeps the auth_session for another try until the fifth; the throttle keeps it too.
   * @throws BadRequest for a wrong or expired code, TooManyRequests when the user's throttle is used up.
   */
  async function checkSentCode(
    user: User,
    id: string,
    authSession: string,
    session: FactorSession,
    typed: string,
  ): Promise<void> {
    const result = await checkOobCode(deps, user.userId, session.oobCode ?? '', typed.trim(), log);
    if (result.ok && result.enrolmentId === id) return;
    if (!result.ok && result.reason === 'throttled') {
      await restoreAuthSession(deps, authSession, { ...session }, now());
      throw throttled(deps);
    }
    if (!result.ok && result.reason === 'wrong') {
      const attempts = session.attempts + 1;
      if (attempts < MAX_OTP_ATTEMPTS) {
        await restoreAuthSession(deps, authSession, { ...session, attempts }, now());
      } else {
        await deps.store.mfaEnrolments.delete(user.userId, id);
      }
      throw wrongCode();
    }
    await deps.store.mfaEnrolments.delete(user.userId, id);
    throw expiredCode();
  }

  return {
    owns: (id: string) => typeOfId(id) !== undefined,
    handles: (type: string) => isFactorType(type),

    async methods(user: User, type: string | undefined): Promise<Record<string, unknown>[]> {
      if (type !== undefined && !isFactorType(type)) return [];
      const confirmed = await deps.userReads.secondFactors(user.userId);
      return confirmed.filter((e) => type === undefined || e.type === type).map(factorMethodView);
    },

    async method(user: User, id: string) {
      return factorMethodView(await confirmedOf(user, id));
    },

    async rename(user: User, id: string, patch: MethodPatch) {
      const found = await confirmedOf(user, id);
      const channel = patch.preferred_authentication_method;
      if (channel !== undefined && found.type !== 'phone') {
        throw new BadRequest(
          'invalid_body',
          'preferred_authentication_method applies to phone methods only.',
        );
      }
      if (patch.name === undefined && channel === undefined) return factorMethodView(found);
      if (patch.name !== undefined && found.type === 'recovery-code') {
        throw new BadRequest('invalid_body', 'A recovery-code method has no name to change.');
      }
      const changed = await deps.store.mfaEnrolments.update(user.userId, id, { name: patch.name, channel });
      if (!changed) throw methodNotFound();
      deps.invalidation.userChanged(user.userId, 'passkeys');
      return factorMethodView({
        ...found,
        ...(patch.name === undefined ? {} : { name: patch.name }),
        ...(channel === undefined ? {} : { channel }),
      });
    },

    async remove(user: User, id: string): Promise<void> {
      await confirmedOf(user, id);
      const deleted = await deps.store.mfaEnrolments.delete(user.userId, id);
      deps.invalidation.userChanged(user.userId, 'passkeys');
      if (!deleted) throw methodNotFound();
    },

    /** Writes the pending method and opens its auth_session (202 of spec 3.3). */
    async startEnrolment(
      user: User,
      body: EnrolmentStart,
    ): Promise<Record<string, unknown> & { id: string }> {
      const type = body.type;
      if (!isFactorType(type)) throw new BadRequest('invalid_body', `Unknown type "${type}".`);
      assertFieldsOf(body);
      await requireEnabled(type);
      const id = newEnrolmentId(type);
      if (type === 'email' || type === 'phone') return startOob(user, type, id, body);
      const secret = type === 'totp' ? newTotpSecret() : undefined;
      const code = type === 'recovery-code' ? newRecoveryCode() : undefined;
      await deps.store.transaction(async (repos) => {
        if (
          type === 'recovery-code' &&
          (await repos.mfaEnrolments.listConfirmed(user.userId, type)).length > 0
        ) {
          throw new Conflict('conflict', 'The user already has a recovery code.');
        }
        await repos.mfaEnrolments.replacePending(
          pendingEnrolment(user.userId, type, iso(), {
            id,
            ...(secret === undefined ? {} : { secret }),
            ...(code === undefined ? {} : { codeHash: hashRecoveryCode(code) }),
          }),
        );
      });
      const authSession = await openAuthSession<FactorSession>(
        deps,
        { userId: user.userId, type, methodId: id, attempts: 0 },
        now(),
      );
      if (code !== undefined) return { id, auth_session: authSession, recovery_code: code };
      return {
        id,
        auth_session: authSession,
        barcode_uri: totpUri(
          tenantDisplayName(await deps.lookups.tenantSettings(), deps.tenantId),
          user.userId,
          secret ?? '',
        ),
        manual_input_code: secret ?? '',
      };
    },

    /** Confirms the pending method (201 of spec 3.4); TOTP needs a fresh code of its secret, email and phone the code sent. */
    async verifyEnrolment(user: User, id: string, body: VerifyBody): Promise<Record<string, unknown>> {
      const type = typeOfId(id);
      if (type === undefined) throw methodNotFound();
      if ('authn_response' in body)
        throw new BadRequest('invalid_body', `The ${type} method takes no authn_response.`);
      const otpCode = 'otp_code' in body ? body.otp_code : undefined;
      if (type !== 'recovery-code' && otpCode === undefined) {
        throw new BadRequest('invalid_body', 'Payload validation error: otp_code is required.');
      }
      if (type === 'recovery-code' && otpCode !== undefined) {
        throw new BadRequest('invalid_body', 'Payload validation error: a recovery-code takes no otp_code.');
      }
      // A factor turned off while an enrolment was open does not complete it.
      await requireEnabled(type);
      const session = await takeAuthSession<FactorSession>(deps, body.auth_session, user.userId, type, now());
      if (session.methodId !== id) throw invalidSession();
      const pending = await deps.store.mfaEnrolments.findForUser(user.userId, id);
      if (!pending || pending.confirmed) throw invalidSession();
      if (type === 'email' || type === 'phone') {
        await checkSentCode(user, id, body.auth_session, session, otpCode ?? '');
      } else if (type === 'totp') {
        const accepted = await acceptTotpCode(deps.oneTime, id, pending.secret ?? '', otpCode ?? '', now());
        if (!accepted) {
          const attempts = session.attempts + 1;
          if (attempts < MAX_OTP_ATTEMPTS) {
            await restoreAuthSession(deps, body.auth_session, { ...session, attempts }, now());
          } else {
            await deps.store.mfaEnrolments.delete(user.userId, id);
          }
          throw wrongCode();
        }
      }
      const at = iso();
      await deps.store.transaction(async (repos) => {
        if (
          type === 'recovery-code' &&
          (await repos.mfaEnrolments.listConfirmed(user.userId, type)).length > 0
        ) {
          throw new Conflict('conflict', 'The user already has a recovery code.');
        }
        if (!(await repos.mfaEnrolments.confirm(user.userId, id, at))) throw invalidSession();
      });
      deps.invalidation.userChanged(user.userId, 'passkeys');
      return factorMethodView({ ...pending, confirmed: true, enrolledAt: at, lastAuthAt: at });
    },
  };
}

/**
 * The My Account service with second factors: requests for `totp|…`, `recovery-code|…`, `email|…` and
 * `phone|…` methods go to the factor service, everything else to the passkey/password service as before.
 */
export function withFactors(deps: Deps, base: MyAccountService, log: WarningLog) {
  const factors = createFactorService(deps, log);
  const password = createPasswordMethod(deps);
  return {
    /** GET /authentication-methods' body: the base's cached JSON while the user has no second factor. */
    async methodListJson(user: User, type: string | undefined): Promise<string> {
      const second = await factors.methods(user, type);
      if (second.length === 0) return base.methodListJson(user, type);
      const own = await base.methods(user, type);
      return JSON.stringify({ authentication_methods: [...own, ...second].slice(0, MAX_METHODS) });
    },
    method: (user: User, id: string) => (factors.owns(id) ? factors.method(user, id) : base.method(user, id)),
    rename: (user: User, id: string, patch: MethodPatch) =>
      factors.owns(id) ? factors.rename(user, id, patch) : base.rename(user, id, patch),
    remove: (user: User, id: string) => (factors.owns(id) ? factors.remove(user, id) : base.remove(user, id)),
    startEnrolment(user: User, body: EnrolmentStart): Promise<Record<string, unknown>> {
      if (factors.handles(body.type)) return factors.startEnrolment(user, body);
      assertFieldsOf(body);
      if (body.type === 'password') return password.start(user, body);
      return base.startEnrolment(user, body);
    },
    verifyEnrolment(
      user: User,
      id: string,
      body: VerifyBody,
      userAgent: string | undefined,
      appOrigins: readonly string[] = [],
    ): Promise<Record<string, unknown>> {
      if (factors.owns(id)) return factors.verifyEnrolment(user, id, body);
      if (id === NEW_PASSWORD_ID) {
        if (!('new_password' in body)) {
          throw new BadRequest('invalid_body', 'Payload validation error: new_password is required.');
        }
        return password.verify(user, id, body);
      }
      if ('new_password' in body)
        throw new BadRequest('invalid_body', `A ${id} method takes no new_password.`);
      if (!('authn_response' in body)) {
        throw new BadRequest('invalid_body', 'Payload validation error: authn_response is required.');
      }
      return base.verifyEnrolment(user, id, body, userAgent, appOrigins);
    },
  };
}
