import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Connection } from '../domain/connection.js';
import { DbConnectionError } from '../dbconnections/errors.js';
import { signUp, signupDisabled } from '../dbconnections/signup.js';
import { loginSuccessEvent } from '../logs/login-events.js';
import { createUserService } from '../management/users/service.js';
import { formActionSource } from '../oauth/authorize/respond.js';
import { message, type MessageKey } from '../pages/messages.js';
import { passwordRules, ruleSentence } from '../pages/password-rules.js';
import { DEFAULT_TENANT_NAME } from '../pages/look.js';
import { sendPage } from '../pages/render.js';
import type { Deps } from '../server/deps.js';
import { addressKey } from '../server/failed-auth-limit.js';
import {
  field,
  isRecord,
  MAX_PASSWORD,
  MAX_USERNAME,
  requestFacts,
  type HostedPages,
  type Opened,
} from './hosted.js';

// Enough for the address form; the Management API's user creation checks it properly.
const EMAIL = /^[^\s@]+@[^\s@]+$/;

interface SignupView {
  readonly status: number;
  readonly email: string;
  readonly error: string | undefined;
  /** The rules the refused password broke, in plain words. */
  readonly broken: readonly string[];
}

/**
 * The hosted sign-up page (`/u/signup`), a state of the login transaction: the user is made through the same
 * path as /dbconnections/signup (password policy, disable_signup, `ss` log, verification email), then signed
 * in exactly as the login page does it.
 */
export const signupRoutes: FastifyPluginAsync<{ deps: Deps; hosted: HostedPages }> = async (
  app,
  { deps, hosted },
) => {
  const { flow, paths } = hosted;
  const users = createUserService(deps);
  const address = (req: FastifyRequest) => addressKey(deps.tenantId, req.ip);

  const page = (reply: FastifyReply, opened: Opened, connection: Connection, view: SignupView) => {
    const { tx, client } = opened;
    const tenant = reply.request.pageLook?.tenantName ?? DEFAULT_TENANT_NAME;
    const disabled = signupDisabled(connection);
    return sendPage(
      reply.status(view.status),
      'signup',
      {
        issuer: deps.config.issuer,
        action: paths.signup,
        state: tx.id,
        csrf: tx.csrf,
        email: view.email,
        error: view.error,
        broken: view.broken,
        disabled,
        rules: disabled ? [] : passwordRules(connection.options),
        loginUrl: hosted.link(paths.login, tx),
        t: {
          title: message('signup.title'),
          subtitle: message('signup.subtitle', { tenant, client: client.name }),
          email: message('signup.email'),
          password: message('signup.password'),
          rulesLabel: message('signup.password_rules'),
          submit: message('signup.submit'),
          haveAccount: message('signup.have_account'),
          login: message('signup.login'),
        },
      },
      { formAction: formActionSource(tx.request.redirectUri) },
    );
  };

  /** The connection the transaction signs up to; refused on an error page when it has none. */
  const opening = async (reply: FastifyReply, state: unknown) => {
    const opened = await hosted.open(state);
    if (!opened) return { refused: flow.pageError(reply, 400, 'error.transaction_expired') };
    const connection = await hosted.connectionOf(opened);
    if (!connection) {
      return { refused: flow.pageError(reply, 400, 'login.not_configured') };
    }
    return { opened, connection };
  };

  app.get('/u/signup', { schema: { hide: true } }, async (req, reply) => {
    const { refused, opened, connection } = await opening(
      reply,
      (req.query as Record<string, unknown>)['state'],
    );
    if (refused) return refused;
    const disabled = signupDisabled(connection);
    return page(reply, opened, connection, {
      status: disabled ? 403 : 200,
      email: opened.tx.request.loginHint ?? '',
      error: disabled ? message('signup.disabled') : undefined,
      broken: [],
    });
  });

  app.post('/u/signup', { schema: { hide: true }, bodyLimit: 16 * 1024 }, async (req, reply) => {
    const body = isRecord(req.body) ? req.body : {};
    const { refused, opened, connection } = await opening(reply, body['state']);
    if (refused) return refused;
    const { tx, client } = opened;
    if (!hosted.genuine(req, tx, body)) {
      return flow.pageError(reply, 403, 'error.csrf');
    }
    const email = field(body, 'email').trim();
    const password = field(body, 'password');
    const again = async (status: number, key: MessageKey, broken: readonly string[] = []) => {
      return page(reply, opened, connection, {
        status,
        email: email.slice(0, MAX_USERNAME),
        error: message(key),
        broken,
      });
    };
    if (signupDisabled(connection)) return again(403, 'signup.disabled');
    // Failed sign-ups count against the address, as on /dbconnections/signup: probing for accounts is slow.
    if (deps.failedAuth.refusal(address(req))) return again(429, 'login.suspicious_ip');
    if (email === '' || password === '' || password.length > MAX_PASSWORD) {
      return again(400, 'signup.missing_fields');
    }
    if (email.length > MAX_USERNAME || !EMAIL.test(email)) return again(400, 'signup.invalid_email');

    const facts = requestFacts(req);
    let user;
    try {
      user = await signUp(deps, users, {
        client,
        connection,
        params: { email, password },
        facts,
        log: req.log,
      });
    } catch (error) {
      if (!(error instanceof DbConnectionError)) throw error;
      await deps.failedAuth.recordFailure(address(req), req.log);
      deps.events.record({
        type: 'fs',
        description: error.message,
        clientId: client.clientId,
        clientName: client.name,
        connection: connection.name,
        connectionId: connection.id,
        strategy: 'auth0',
        strategyType: 'database',
        userName: email,
        ...facts,
      });
      const rejection = error.rejection;
      if (rejection?.name === 'PasswordStrengthError') {
        return again(400, 'signup.weak_password', rejection.rules.map(ruleSentence));
      }
      if (rejection?.name === 'PasswordDictionaryError') return again(400, 'signup.common_password');
      if (rejection?.name === 'PasswordNoUserInfoError') return again(400, 'signup.personal_password');
      if (error.code === 'operation_not_allowed') return again(403, 'signup.disabled');
      // An address that already has an account gets the same words as any other refusal (no enumeration).
      return again(400, 'signup.failed');
    }
    // Signed up is signed in: Auth0 logs the login (`s`) after the sign-up (`ss`).
    deps.events.record(
      loginSuccessEvent(
        {
          clientId: client.clientId,
          clientName: client.name,
          userName: email,
          connection: connection.name,
          userId: user.userId,
        },
        facts,
      ),
    );
    return hosted.signedIn(req, reply, opened, user);
  });
};
