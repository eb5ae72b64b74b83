import formbody from '@fastify/formbody';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { loginFailureEvent, loginSuccessEvent, type LoginAttempt } from '../logs/login-events.js';
import { formActionSource } from '../oauth/authorize/respond.js';
import { loginFailureMessage, message } from '../pages/messages.js';
import { DEFAULT_TENANT_NAME } from '../pages/look.js';
import { sendPage } from '../pages/render.js';
import type { Deps } from '../server/deps.js';
import { addressKey } from '../server/failed-auth-limit.js';
import { signupDisabled } from '../dbconnections/signup.js';
import { authenticateUser, LoginError } from '../users/authenticate.js';
import { createHostedPages, field, MAX_PASSWORD, MAX_USERNAME, requestFacts, type Opened } from './hosted.js';
import { passkeysEnabled } from '../passkeys/native.js';
import { assetRoutes, assetUrl } from '../pages/assets.js';
import { passkeyOfferRoutes } from './passkey-offer-routes.js';
import { createHostedPasskeys, progressiveEnrolment } from './passkeys.js';
import { resetRequestRoutes } from './reset-request-routes.js';
import { signupRoutes } from './signup-routes.js';
import type { User } from '../domain/user.js';
import type { FastifyRequest } from 'fastify';
import { mfaRoutes, type ContinueSignIn } from './mfa-routes.js';
import { mfaNeeded, mfaPath, mfaStepFor, NO_FACTOR, PASSKEY_AMR, PASSWORD_AMR } from './mfa-step.js';
import { transactionCookieName, transactionCookiePath } from '../oauth/authorize/transaction.js';

/**
 * The hosted login page (`/u/login`): one state of the login transaction started by /authorize. A successful
 * sign-in starts the SSO session and finishes the authorization. Sign-up and the password-reset request are
 * the transaction's other pages.
 */
export const loginRoutes: FastifyPluginAsync<{ deps: Deps }> = async (app, { deps }) => {
  await app.register(formbody);
  const hosted = createHostedPages(deps, app.log);
  const { flow, paths } = hosted;
  await app.register(signupRoutes, { deps, hosted });
  await app.register(resetRequestRoutes, { deps, hosted });
  const passkeys = createHostedPasskeys(deps);
  await app.register(assetRoutes);
  await app.register(passkeyOfferRoutes, { deps, hosted, passkeys });

  /**
   * The user passed every factor the sign-in needs: the passkey offer when the connection enrols progressively
   * and the user has none (a fresh sign-in only), then the session and the authorization's answer.
   */
  const continueSignIn: ContinueSignIn = async (req, reply, opened, user, auth) => {
    const connection = auth.raise === undefined ? await hosted.connectionOf(opened) : undefined;
    if (
      connection &&
      progressiveEnrolment(connection) &&
      (await deps.store.passkeys.listForUser(user.userId)).length === 0
    ) {
      const step = { ...(await passkeys.offerStep(user)), amr: auth.amr };
      const moved = await flow.transactions.offerPasskey(opened.tx.id, step);
      if (!moved) return flow.pageError(reply, 400, 'error.transaction_expired');
      return reply.header('cache-control', 'no-store').redirect(hosted.link(paths.passkeyOffer, moved), 303);
    }
    return hosted.signedIn(req, reply, opened, user, undefined, auth);
  };
  await app.register(mfaRoutes, { deps, hosted, passkeys, continueSignIn });

  /** After the password: the second-factor step when the sign-in needs one, else on with the sign-in. */
  const afterPassword = async (
    req: FastifyRequest,
    reply: FastifyReply,
    opened: Opened,
    user: User,
  ): Promise<FastifyReply> => {
    if (!(await mfaNeeded(deps, opened.tx.request)))
      return continueSignIn(req, reply, opened, user, { amr: PASSWORD_AMR });
    const step = await mfaStepFor(deps, user.userId, PASSWORD_AMR);
    if (!step) {
      // No factor to challenge and none to enrol: the application hears it, the transaction ends.
      if (!(await flow.transactions.take(opened.tx.id)))
        return flow.pageError(reply, 400, 'error.transaction_expired');
      const path = transactionCookiePath(deps.config.issuer);
      void reply.header(
        'set-cookie',
        `${transactionCookieName(opened.tx.id)}=; Path=${path}; HttpOnly; Max-Age=0`,
      );
      return flow.answer(reply, opened.tx.request, NO_FACTOR);
    }
    const moved = await flow.transactions.moveMfa(opened.tx.id, step);
    if (!moved) return flow.pageError(reply, 400, 'error.transaction_expired');
    return reply
      .header('cache-control', 'no-store')
      .redirect(hosted.link(mfaPath(deps.config.issuer, step), moved), 303);
  };

  const page = async (
    reply: FastifyReply,
    opened: Opened,
    view: { status: number; username: string; error: string | undefined },
  ): Promise<FastifyReply> => {
    const { tx, client } = opened;
    const tenant = reply.request.pageLook?.tenantName ?? DEFAULT_TENANT_NAME;
    const connection = await hosted.connectionOf(opened);
    // Passkeys on: a discoverable-credential request for the button and the browser's autofill.
    const options =
      connection && passkeysEnabled(connection) ? await passkeys.loginOptions(opened) : undefined;
    return sendPage(
      reply.status(view.status),
      'login',
      {
        issuer: deps.config.issuer,
        action: paths.login,
        state: tx.id,
        csrf: tx.csrf,
        username: view.username,
        error: view.error,
        signupUrl: connection && !signupDisabled(connection) ? hosted.link(paths.signup, tx) : undefined,
        resetUrl: connection ? hosted.link(paths.resetRequest, tx) : undefined,
        // The browser offers the user's passkeys in the field's autofill (conditional UI).
        usernameAutocomplete: options ? 'username webauthn' : 'username',
        passkey: options && {
          action: paths.loginPasskey,
          options: JSON.stringify(options),
          challenge: options['challenge'],
          library: assetUrl(paths.assets, 'simplewebauthn-browser.js'),
          script: assetUrl(paths.assets, 'login-passkey.js'),
        },
        t: {
          title: message('login.title'),
          subtitle: message('login.subtitle', { tenant, client: client.name }),
          username: message('login.username'),
          password: message('login.password'),
          submit: message('login.submit'),
          forgot: message('login.forgot'),
          noAccount: message('login.no_account'),
          signup: message('login.signup'),
          or: message('login.or'),
          passkey: message('login.passkey'),
          passkeyCancelled: message('login.passkey_cancelled'),
        },
      },
      // The form is answered by a 302 to the application's redirect URI, which form-action governs too.
      {
        formAction: formActionSource(tx.request.redirectUri),
        // A web_message sign-in runs in auth0-spa-js's popup, whose answer must reach its opener.
        keepOpener: tx.request.responseMode === 'web_message',
      },
    );
  };

  app.get('/u/login', { schema: { hide: true } }, async (req, reply) => {
    const opened = await hosted.open((req.query as Record<string, unknown>)['state']);
    if (!opened) return flow.pageError(reply, 400, 'error.transaction_expired');
    return page(reply, opened, {
      status: 200,
      username: opened.tx.request.loginHint ?? '',
      error: undefined,
    });
  });

  app.post('/u/login', { schema: { hide: true }, bodyLimit: 16 * 1024 }, async (req, reply) => {
    const posted = await hosted.openPosted(req, reply);
    if (!posted) return reply;
    const { body, opened } = posted;
    const { tx, client } = opened;
    const username = field(body, 'username').trim();
    const password = field(body, 'password');
    const again = async (status: number, error: string) => {
      return page(reply, opened, { status, username: username.slice(0, MAX_USERNAME), error });
    };
    if (
      username === '' ||
      password === '' ||
      username.length > MAX_USERNAME ||
      password.length > MAX_PASSWORD
    )
      return again(400, message('login.missing_fields'));

    const attempt: LoginAttempt = {
      clientId: client.clientId,
      clientName: client.name,
      userName: username,
      connection: tx.request.connection,
      userId: undefined,
    };
    const facts = requestFacts(req);
    let signedIn;
    try {
      signedIn = await authenticateUser(
        {
          clientId: client.clientId,
          connection: tx.request.connection,
          login: username,
          password,
          ip: req.ip,
        },
        flow.tokenDeps,
      );
    } catch (error) {
      if (!(error instanceof LoginError)) throw error;
      const text = message(loginFailureMessage(error.reason));
      const failed = { ...attempt, userId: error.userId, connection: error.connection ?? attempt.connection };
      deps.events.record(loginFailureEvent(failed, facts, error.reason, text));
      const throttled = ['too_many_attempts', 'identifier_throttled', 'address_throttled'].includes(
        error.reason,
      );
      return again(throttled ? 429 : 400, text);
    }
    const { user, connection } = signedIn;
    deps.events.record(
      loginSuccessEvent({ ...attempt, userId: user.userId, connection: connection.name }, facts),
    );
    return afterPassword(req, reply, opened, user);
  });

  /** The passkey sign-in: the page's script posts the browser's assertion here, with the form's CSRF token. */
  app.post('/u/login/passkey', { schema: { hide: true }, bodyLimit: 16 * 1024 }, async (req, reply) => {
    const posted = await hosted.openPosted(req, reply);
    if (!posted) return reply;
    const { body, opened } = posted;
    const { client } = opened;
    const again = (status: number, error: string) => page(reply, opened, { status, username: '', error });
    const connection = await hosted.connectionOf(opened);
    if (!connection || !passkeysEnabled(connection)) return again(400, message('login.passkey_unavailable'));
    const attempt: LoginAttempt = {
      clientId: client.clientId,
      clientName: client.name,
      userName: '',
      connection: connection.name,
      userId: undefined,
    };
    const facts = requestFacts(req);
    // Refused assertions count against the address, as refused sign-ups and reset requests do.
    const address = addressKey(deps.tenantId, req.ip);
    if (deps.failedAuth.refusal(address)) return again(429, message('login.suspicious_ip'));
    let user;
    try {
      user = await passkeys.signIn(opened, connection, body);
      // As for a password: a blocked user learns it only once the passkey verified.
      if (user.blocked) throw new LoginError('blocked', connection.name, user.userId);
      const current = await flow.tokenDeps.recordLogin(user, req.ip, undefined);
      if (!current) throw new LoginError('blocked', connection.name, user.userId);
      user = current;
    } catch (error) {
      if (!(error instanceof LoginError)) throw error;
      const text = message(loginFailureMessage(error.reason));
      const who = error.userId === undefined ? undefined : await deps.store.users.findById(error.userId);
      const failed = { ...attempt, userId: error.userId, userName: who?.email ?? who?.username ?? '' };
      deps.events.record(loginFailureEvent(failed, facts, error.reason, text));
      if (error.reason !== 'blocked') await deps.failedAuth.recordFailure(address, req.log);
      return again(400, text);
    }
    const named = { ...attempt, userId: user.userId, userName: user.email ?? user.username ?? '' };
    deps.events.record(loginSuccessEvent(named, facts));
    // A passkey with user verification is two factors already: no second-factor step.
    return hosted.signedIn(req, reply, opened, user, undefined, { amr: PASSKEY_AMR });
  });
};
