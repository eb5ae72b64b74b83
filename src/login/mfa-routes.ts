import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import type { MfaEnrolment } from '../domain/mfa-enrolment.js';
import type { User } from '../domain/user.js';
import { mfaEvent } from '../logs/mfa-events.js';
import { guardianConfig } from '../mfa/guardian.js';
import { checkOobCode, oobTargetOf, sendOobCode } from '../mfa/oob.js';
import { newRecoveryCode } from '../mfa/recovery-code.js';
import {
  AMR_OF_TYPE,
  checkPendingTotp,
  checkTotp,
  recoveryEnrolment,
  secondFactorAttempt,
  redeemRecoveryCode,
  usableFactors,
  type FactorCheck,
} from '../mfa/second-factor.js';
import { totpUri } from '../mfa/totp.js';
import { tenantDisplayName } from '../myaccount/service.js';
import { formActionSource } from '../oauth/authorize/respond.js';
import type { MfaStep } from '../oauth/authorize/transaction.js';
import { DEFAULT_TENANT_NAME } from '../pages/look.js';
import { message, type MessageKey } from '../pages/messages.js';
import { sendPage } from '../pages/render.js';
import type { Deps } from '../server/deps.js';
import { SmsNotSent } from '../sms/sender.js';
import { field, isRecord, requestFacts, type HostedPages, type Opened } from './hosted.js';
import { mergeAmr, PASSKEY_AMR, PASSKEY_FACTOR } from './mfa-step.js';
import type { HostedPasskeys } from './passkeys.js';
import { assetUrl } from '../pages/assets.js';

/** The sign-in goes on once the second factor passed (the passkey offer, or the session and the answer). */
export type ContinueSignIn = (
  req: FastifyRequest,
  reply: FastifyReply,
  opened: Opened,
  user: User,
  auth: { amr: readonly string[]; raise?: string | undefined },
) => Promise<FastifyReply>;

type AtStep = Opened & { step: MfaStep };

/** Longest code accepted: six digits, or a 24-character recovery code with spaces or dashes between groups. */
const MAX_CODE = 64;

/** An address shown on the page without giving it away to someone looking over the shoulder. */
export function maskAddress(type: 'email' | 'phone', address: string): string {
  if (type === 'phone') return `••••${address.slice(-4)}`;
  const at = address.lastIndexOf('@');
  if (at < 1) return '••••';
  return `${address.charAt(0)}••••@${address.slice(at + 1)}`;
}

/**
 * The second factor at sign-in, two steps of the login transaction: `/u/mfa` challenges one of the user's
 * enrolled factors (authenticator app code, a code sent by email or text message, a recovery code, with a
 * switch between them), `/u/mfa-enrol` enrols an authenticator app for a user who has none. The checks are the
 * shared core's (mfa/second-factor.ts, mfa/oob.ts); a page only moves its step forward, and the sign-in
 * completes through `continueSignIn`, the one step that issues the code.
 */
export const mfaRoutes: FastifyPluginAsync<{
  deps: Deps;
  hosted: HostedPages;
  passkeys: HostedPasskeys;
  continueSignIn: ContinueSignIn;
}> = async (app, { deps, hosted, passkeys, continueSignIn }) => {
  const { flow, paths } = hosted;

  const open = async (state: unknown, kind: MfaStep['kind']): Promise<AtStep | undefined> => {
    if (typeof state !== 'string' || state === '') return undefined;
    const tx = await flow.transactions.peek(state);
    if (!tx?.mfa || tx.mfa.kind !== kind || tx.passkeyOffer) return undefined;
    const client = await deps.lookups.client(tx.request.clientId);
    return client ? { tx, client, step: tx.mfa } : undefined;
  };

  /** A form posted to the step: its fields, the transaction, and the user; or undefined once refused. */
  const openPosted = async (
    req: FastifyRequest,
    reply: FastifyReply,
    kind: MfaStep['kind'],
  ): Promise<{ body: Record<string, unknown>; at: AtStep; user: User } | undefined> => {
    const body = isRecord(req.body) ? req.body : {};
    const at = await open(body['state'], kind);
    if (!at) {
      flow.pageError(reply, 400, 'error.transaction_expired');
      return undefined;
    }
    if (!hosted.genuine(req, at.tx, body)) {
      flow.pageError(reply, 403, 'error.csrf');
      return undefined;
    }
    // The user may have been blocked or removed since the first factor.
    const user = await deps.store.users.findById(at.step.userId);
    if (!user || user.blocked) {
      flow.pageError(reply, 400, 'login.blocked');
      return undefined;
    }
    return { body, at, user };
  };

  const actorOf = (at: AtStep, user: User) => ({
    clientId: at.client.clientId,
    clientName: at.client.name,
    userId: user.userId,
    userName: user.email ?? user.username ?? '',
  });

  const pageOptions = (at: AtStep) => ({
    // Continue ends in a 302 to the application's redirect URI, which form-action governs too.
    formAction: formActionSource(at.tx.request.redirectUri),
    keepOpener: at.tx.request.responseMode === 'web_message',
  });

  const common = (reply: FastifyReply, at: AtStep, action: string) => ({
    issuer: deps.config.issuer,
    action,
    state: at.tx.id,
    csrf: at.tx.csrf,
    tenant: reply.request.pageLook?.tenantName ?? DEFAULT_TENANT_NAME,
  });

  /** The page after the second factor passed: a new recovery code shown once, if any, and Continue. */
  const passedPage = (reply: FastifyReply, at: AtStep, action: string, recoveryCode?: string) =>
    sendPage(
      reply.status(200),
      'mfa-passed',
      {
        ...common(reply, at, action),
        recoveryCode,
        t: {
          title: message(recoveryCode === undefined ? 'mfa.verified_title' : 'mfa.recovery_title'),
          text: message(
            recoveryCode === undefined
              ? 'mfa.verified_text'
              : at.step.kind === 'enrol'
                ? 'mfa_enrol.recovery_text'
                : 'mfa.recovery_text',
          ),
          codeLabel: message('mfa.recovery_new_label'),
          continue: message('mfa.continue'),
        },
      },
      pageOptions(at),
    );

  /** The challenge page for the step's factor, with the other factors to switch to. */
  const challengePage = async (
    reply: FastifyReply,
    at: AtStep,
    view: { status: number; error?: string | undefined },
  ): Promise<FastifyReply> => {
    if (at.step.passed) return passedPage(reply, at, paths.mfa);
    const factors = await usableFactors(deps, at.step.userId);
    const factor = factors.find((f) => f.id === at.step.enrolmentId);
    const data = common(reply, at, paths.mfa);
    const masked = (f: MfaEnrolment) => {
      const target = oobTargetOf(f);
      return target === undefined ? '' : maskAddress(target.type, target.address);
    };
    const label = (f: MfaEnrolment): string => {
      switch (f.type) {
        case 'totp':
          return message('mfa.use_totp');
        case 'email':
          return message('mfa.use_email', { address: masked(f) });
        case 'phone':
          return message('mfa.use_phone', { address: masked(f) });
        default:
          return message('mfa.use_recovery');
      }
    };
    // One way out per kind: two authenticator apps answer the same code form.
    const single = (type: string) => type === 'totp' || type === 'recovery-code';
    const seen = new Set<string>(factor && single(factor.type) ? [factor.type] : []);
    const others = factors.filter((f) => {
      if (f.id === factor?.id) return false;
      if (!single(f.type)) return true;
      if (seen.has(f.type)) return false;
      seen.add(f.type);
      return true;
    });
    const oob = factor?.type === 'email' || factor?.type === 'phone';
    const codeForm = factor !== undefined && (!oob || at.step.oobCode !== undefined);
    // The user's passkeys answer beside any factor; when they are the only one, the page opens with them.
    const passkeyOptions = await passkeys.secondFactorOptions(
      at,
      await hosted.connectionOf(at),
      at.step.userId,
    );
    const passkeyOnly = at.step.enrolmentId === PASSKEY_FACTOR && passkeyOptions !== undefined;
    const prompt = passkeyOnly
      ? message('mfa.passkey_prompt')
      : factor === undefined
        ? message('mfa.unavailable')
        : factor.type === 'totp'
          ? message('mfa.totp_prompt')
          : factor.type === 'recovery-code'
            ? message('mfa.recovery_prompt')
            : message(at.step.oobCode === undefined ? 'mfa.send_prompt' : 'mfa.oob_prompt', {
                address: masked(factor),
              });
    return sendPage(
      reply.status(view.status),
      'mfa-challenge',
      {
        ...data,
        error: view.error,
        prompt,
        codeForm,
        recovery: factor?.type === 'recovery-code',
        codeLabel: message(
          factor?.type === 'recovery-code' ? 'mfa.recovery_label' : oob ? 'mfa.oob_label' : 'mfa.totp_label',
        ),
        send: oob ? message(at.step.oobCode === undefined ? 'mfa.send' : 'mfa.resend') : undefined,
        others: others.map((f) => ({ id: f.id, label: label(f) })),
        passkey: passkeyOptions && {
          action: paths.mfaPasskey,
          options: JSON.stringify(passkeyOptions),
          challenge: passkeyOptions['challenge'],
          primary: passkeyOnly,
          library: assetUrl(paths.assets, 'simplewebauthn-browser.js'),
          script: assetUrl(paths.assets, 'login-passkey.js'),
        },
        t: {
          passkey: message('mfa.passkey'),
          passkeyCancelled: message('mfa.passkey_cancelled'),
          title: message('mfa.title'),
          subtitle: message('mfa.subtitle', { tenant: data.tenant, client: at.client.name }),
          submit: message('mfa.submit'),
          other: message('mfa.other'),
        },
      },
      pageOptions(at),
    );
  };

  /** Sends a code to an email or phone enrolment and moves the step to it. */
  const sendCode = async (
    req: FastifyRequest,
    reply: FastifyReply,
    at: AtStep,
    user: User,
    factor: MfaEnrolment,
  ): Promise<FastifyReply> => {
    const target = oobTargetOf(factor);
    if (!target) return challengePage(reply, at, { status: 400, error: message('mfa.unavailable') });
    // Each code sent counts against the user's second-factor throttle, so resends cannot flood a phone or
    // an inbox (nor the operator's SMS bill); a code that could not be sent does not count.
    const attempt = await secondFactorAttempt(deps, user.userId, req.log);
    if (attempt.refusal)
      return challengePage(reply, at, { status: 429, error: message('mfa.send_throttled') });
    let oobCode: string;
    try {
      oobCode = await sendOobCode(deps, target);
    } catch (error) {
      await attempt.cancel();
      // The SMS gateway refused, or the mail server did: the user can try again or pick another factor.
      if (!(error instanceof SmsNotSent) && target.type !== 'email') throw error;
      req.log.warn({ err: error, factor: target.type }, 'one-time code not sent');
      return challengePage(reply, at, { status: 503, error: message('mfa.not_sent') });
    }
    const type = target.type === 'email' ? 'gd_send_email' : 'gd_send_sms';
    deps.events.record(mfaEvent(type, actorOf(at, user), requestFacts(req), factor.type));
    const moved = await flow.transactions.moveMfa(at.tx.id, { ...at.step, enrolmentId: factor.id, oobCode });
    if (!moved) return flow.pageError(reply, 400, 'error.transaction_expired');
    return reply.header('cache-control', 'no-store').redirect(hosted.link(paths.mfa, moved), 303);
  };

  app.get('/u/mfa', { schema: { hide: true } }, async (req, reply) => {
    const at = await open((req.query as Record<string, unknown>)['state'], 'challenge');
    if (!at) return flow.pageError(reply, 400, 'error.transaction_expired');
    return challengePage(reply, at, { status: 200 });
  });

  app.post('/u/mfa', { schema: { hide: true }, bodyLimit: 16 * 1024 }, async (req, reply) => {
    const posted = await openPosted(req, reply, 'challenge');
    if (!posted) return reply;
    const { body, at, user } = posted;
    const { step } = at;
    const action = field(body, 'action');
    const raise = step.sessionId;

    if (action === 'continue') {
      if (!step.passed) return challengePage(reply, at, { status: 400 });
      return continueSignIn(req, reply, at, user, { amr: step.passed, raise });
    }
    if (step.passed) return passedPage(reply, at, paths.mfa);
    const factors = await usableFactors(deps, user.userId);
    if (action === 'select' || action === 'send') {
      const id = action === 'select' ? field(body, 'factor') : step.enrolmentId;
      const factor = factors.find((f) => f.id === id);
      if (!factor) return challengePage(reply, at, { status: 400, error: message('mfa.unavailable') });
      if (factor.type === 'email' || factor.type === 'phone') return sendCode(req, reply, at, user, factor);
      const moved = await flow.transactions.moveMfa(at.tx.id, { ...step, enrolmentId: factor.id });
      if (!moved) return flow.pageError(reply, 400, 'error.transaction_expired');
      return reply.header('cache-control', 'no-store').redirect(hosted.link(paths.mfa, moved), 303);
    }
    if (action !== 'verify') return challengePage(reply, at, { status: 400 });

    const factor = factors.find((f) => f.id === step.enrolmentId);
    if (!factor) return challengePage(reply, at, { status: 400, error: message('mfa.unavailable') });
    const code = field(body, 'code').trim();
    if (code === '' || code.length > MAX_CODE)
      return challengePage(reply, at, { status: 400, error: message('mfa.missing_code') });
    const facts = requestFacts(req);
    const actor = actorOf(at, user);
    const recovery = factor.type === 'recovery-code';

    let check: FactorCheck | { ok: false; reason: 'unknown' };
    let newCode: string | undefined;
    if (factor.type === 'totp') {
      check = await checkTotp(deps, user.userId, code, req.log);
    } else if (recovery) {
      const redeemed = await redeemRecoveryCode(deps, user.userId, code, req.log);
      check = redeemed;
      if (redeemed.ok) newCode = redeemed.newCode;
    } else {
      if (step.oobCode === undefined)
        return challengePage(reply, at, { status: 400, error: message('mfa.send_first') });
      const oob = await checkOobCode(deps, user.userId, step.oobCode, code.replace(/\s/g, ''), req.log);
      if (oob.ok) {
        await deps.store.mfaEnrolments.touch(
          user.userId,
          factor.id,
          new Date(deps.clock.now()).toISOString(),
        );
        check = { ok: true, enrolment: factor, amr: [AMR_OF_TYPE[factor.type], 'mfa'] };
      } else check = oob;
    }
    if (!check.ok) {
      const throttled = check.reason === 'throttled';
      deps.events.record(
        mfaEvent(
          throttled ? 'gd_otp_rate_limit_exceed' : recovery ? 'gd_recovery_failed' : 'gd_auth_failed',
          actor,
          facts,
          factor.type,
          throttled ? 'Too many failed second-factor attempts' : 'Wrong second-factor code',
        ),
      );
      const key: MessageKey = throttled
        ? 'mfa.throttled'
        : check.reason === 'unknown'
          ? 'mfa.expired_code'
          : 'mfa.wrong_code';
      return challengePage(reply, at, { status: throttled ? 429 : 400, error: message(key) });
    }
    deps.events.record(
      mfaEvent(recovery ? 'gd_recovery_succeed' : 'gd_auth_succeed', actor, facts, factor.type),
    );
    const amr = mergeAmr(step.amr, check.amr);
    if (newCode === undefined) return continueSignIn(req, reply, at, user, { amr, raise });
    // The used recovery code was replaced: the new one is shown once, then Continue.
    const moved = await flow.transactions.moveMfa(at.tx.id, { ...step, passed: amr });
    if (!moved) return flow.pageError(reply, 400, 'error.transaction_expired');
    return passedPage(reply, { ...at, tx: moved, step: { ...step, passed: amr } }, paths.mfa, newCode);
  });

  /** The passkey as the second factor: the page's script posts the assertion here with the form's CSRF token. */
  app.post('/u/mfa/passkey', { schema: { hide: true }, bodyLimit: 16 * 1024 }, async (req, reply) => {
    const posted = await openPosted(req, reply, 'challenge');
    if (!posted) return reply;
    const { body, at, user } = posted;
    if (at.step.passed) return passedPage(reply, at, paths.mfa);
    const actor = actorOf(at, user);
    const facts = requestFacts(req);
    // Refused assertions count against the user's second-factor throttle like wrong codes.
    const attempt = await secondFactorAttempt(deps, user.userId, req.log);
    if (attempt.refusal) return challengePage(reply, at, { status: 429, error: message('mfa.throttled') });
    if (!(await passkeys.verifySecondFactor(at, user.userId, body))) {
      deps.events.record(mfaEvent('gd_auth_failed', actor, facts, 'passkey', 'Passkey refused'));
      return challengePage(reply, at, { status: 400, error: message('mfa.passkey_refused') });
    }
    await attempt.cancel();
    deps.events.record(mfaEvent('gd_auth_succeed', actor, facts, 'passkey'));
    const amr = mergeAmr(at.step.amr, PASSKEY_AMR);
    return continueSignIn(req, reply, at, user, { amr, raise: at.step.sessionId });
  });

  /** The enrolment page: the pending TOTP secret as a QR code and as text, and the code that confirms it. */
  const enrolPage = async (
    reply: FastifyReply,
    at: AtStep,
    view: { status: number; error?: string | undefined },
  ): Promise<FastifyReply> => {
    if (at.step.passed) return passedPage(reply, at, paths.mfaEnrol);
    const pending = await deps.store.mfaEnrolments.findForUser(at.step.userId, at.step.enrolmentId);
    const user = await deps.store.users.findById(at.step.userId);
    if (!pending || pending.confirmed || pending.secret === undefined || !user)
      return flow.pageError(reply, 400, 'error.transaction_expired');
    const settings = await deps.lookups.tenantSettings();
    const issuerName = tenantDisplayName(settings, deps.tenantId);
    const uri = totpUri(issuerName, user.email ?? user.username ?? user.userId, pending.secret);
    // An SVG drawn with presentation attributes only: the strict CSP allows it inline.
    const qr = await QRCode.toString(uri, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' });
    const data = common(reply, at, paths.mfaEnrol);
    return sendPage(
      reply.status(view.status),
      'mfa-enrol',
      {
        ...data,
        error: view.error,
        qr,
        uri,
        secret: pending.secret.replace(/(.{4})(?=.)/g, '$1 '),
        t: {
          title: message('mfa_enrol.title'),
          subtitle: message('mfa_enrol.subtitle', { tenant: data.tenant, client: at.client.name }),
          scan: message('mfa_enrol.scan'),
          qrLabel: message('mfa_enrol.qr_label', { tenant: issuerName }),
          manual: message('mfa_enrol.manual'),
          codeLabel: message('mfa_enrol.code_label'),
          submit: message('mfa_enrol.submit'),
        },
      },
      pageOptions(at),
    );
  };

  app.get('/u/mfa-enrol', { schema: { hide: true } }, async (req, reply) => {
    const at = await open((req.query as Record<string, unknown>)['state'], 'enrol');
    if (!at) return flow.pageError(reply, 400, 'error.transaction_expired');
    return enrolPage(reply, at, { status: 200 });
  });

  app.post('/u/mfa-enrol', { schema: { hide: true }, bodyLimit: 16 * 1024 }, async (req, reply) => {
    const posted = await openPosted(req, reply, 'enrol');
    if (!posted) return reply;
    const { body, at, user } = posted;
    const { step } = at;
    const raise = step.sessionId;
    if (field(body, 'action') === 'continue') {
      if (!step.passed) return enrolPage(reply, at, { status: 400 });
      return continueSignIn(req, reply, at, user, { amr: step.passed, raise });
    }
    if (step.passed) return passedPage(reply, at, paths.mfaEnrol);
    const code = field(body, 'code').replace(/\s/g, '');
    if (code === '' || code.length > MAX_CODE)
      return enrolPage(reply, at, { status: 400, error: message('mfa.missing_code') });
    const pending = await deps.store.mfaEnrolments.findForUser(user.userId, step.enrolmentId);
    if (!pending || pending.confirmed || pending.secret === undefined)
      return flow.pageError(reply, 400, 'error.transaction_expired');
    const facts = requestFacts(req);
    const actor = actorOf(at, user);
    // Wrong codes count against the user's second-factor throttle, as a challenge's do.
    const checked = await checkPendingTotp(deps, pending, code, req.log);
    if (checked === 'throttled') {
      deps.events.record(mfaEvent('gd_otp_rate_limit_exceed', actor, facts, 'totp'));
      return enrolPage(reply, at, { status: 429, error: message('mfa.throttled') });
    }
    if (checked === 'wrong') {
      deps.events.record(mfaEvent('gd_auth_failed', actor, facts, 'totp', 'Wrong second-factor code'));
      return enrolPage(reply, at, { status: 400, error: message('mfa.wrong_code') });
    }
    const enrolledAt = new Date(deps.clock.now()).toISOString();
    const { enabled } = guardianConfig(await deps.lookups.tenantSettings());
    const recoveryCode = enabled.includes('recovery-code') ? newRecoveryCode() : undefined;
    const confirmed = await deps.store.transaction(async (repos) => {
      if (!(await repos.mfaEnrolments.confirm(user.userId, pending.id, enrolledAt))) return false;
      if (recoveryCode === undefined) return true;
      if ((await repos.mfaEnrolments.listConfirmed(user.userId, 'recovery-code')).length > 0) return true;
      // Shown before it is ever used: no last use yet.
      await repos.mfaEnrolments.insert({
        ...recoveryEnrolment(user.userId, recoveryCode, enrolledAt),
        lastAuthAt: undefined,
      });
      return 'with-recovery-code';
    });
    // Another tab confirmed it first: that tab goes on with the sign-in.
    if (!confirmed) return flow.pageError(reply, 400, 'error.transaction_expired');
    deps.invalidation.userChanged(user.userId, 'passkeys');
    deps.events.record(mfaEvent('gd_enrollment_complete', actor, facts, 'totp'));
    const amr = mergeAmr(step.amr, [AMR_OF_TYPE.totp, 'mfa']);
    if (confirmed !== 'with-recovery-code') return continueSignIn(req, reply, at, user, { amr, raise });
    const moved = await flow.transactions.moveMfa(at.tx.id, { ...step, passed: amr });
    if (!moved) return flow.pageError(reply, 400, 'error.transaction_expired');
    return passedPage(
      reply,
      { ...at, tx: moved, step: { ...step, passed: amr } },
      paths.mfaEnrol,
      recoveryCode,
    );
  });
};
