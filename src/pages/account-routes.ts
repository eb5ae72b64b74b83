import formbody from '@fastify/formbody';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { User } from '../domain/user.js';
import { createUserService, PasswordRejected } from '../management/users/service.js';
import type { Deps } from '../server/deps.js';
import { addressKey } from '../server/failed-auth-limit.js';
import { EMAIL_VERIFICATION_PATH, RESET_PASSWORD_PATH, tenantName } from '../users/account-links.js';
import type { Ticket } from '../users/tickets.js';
import { message as text, messageAround, type MessageKey } from './messages.js';
import { passwordRules, ruleSentence } from './password-rules.js';
import { sendPage } from './render.js';

/**
 * The pages a ticket link opens: choosing a new password (/u/reset-password) and confirming an email address
 * (/u/email-verification). A ticket is used up by the action it allows, never by looking at the page.
 */
export const accountPageRoutes: FastifyPluginAsync<{ deps: Deps }> = async (app, { deps }) => {
  await app.register(formbody);
  const users = createUserService(deps);
  const facts = (req: FastifyRequest) => ({
    ip: req.ip,
    userAgent: req.headers['user-agent'],
    hostname: req.hostname,
  });
  // A wrong or spent ticket counts against the caller's address, like a failed client authentication.
  const badTicket = async (req: FastifyRequest, reply: FastifyReply) => {
    await deps.failedAuth.recordFailure(addressKey(deps.tenantId, req.ip), req.log);
    return message(reply, 400, 'account.link_expired_title', 'account.link_expired', true);
  };
  const message = async (
    reply: FastifyReply,
    status: number,
    heading: MessageKey,
    sentence: MessageKey,
    isError: boolean,
  ) =>
    sendPage(reply.status(status), 'account-message', {
      issuer: deps.config.issuer,
      tenantName: await tenantName(deps),
      heading: text(heading),
      message: text(sentence),
      isError,
    });
  const refused = (req: FastifyRequest, reply: FastifyReply) => {
    if (deps.failedAuth.refusal(addressKey(deps.tenantId, req.ip)) === undefined) return undefined;
    return message(reply, 429, 'account.too_many_attempts_title', 'account.too_many_attempts', true);
  };

  const resetForm = async (
    reply: FastifyReply,
    status: number,
    ticket: string,
    user: User,
    errors: readonly string[],
  ) => {
    const connection = await deps.store.connections.findByName(user.identities[0]?.connection ?? '');
    return sendPage(reply.status(status), 'reset-password', {
      issuer: deps.config.issuer,
      tenantName: await tenantName(deps),
      email: user.email ?? user.username ?? '',
      action: `${deps.config.issuer}${RESET_PASSWORD_PATH.slice(1)}`,
      ticket,
      csrf: deps.tickets.csrfToken(ticket),
      rules: connection ? passwordRules(connection.options) : [],
      errors,
      t: {
        title: text('reset.title'),
        subtitle: messageAround('reset.subtitle', 'email'),
        rulesLabel: text('reset.rules_label'),
        password: text('reset.password'),
        passwordConfirmation: text('reset.password_confirmation'),
        submit: text('reset.submit'),
      },
    });
  };

  app.get<{ Querystring: { ticket?: string } }>(
    RESET_PASSWORD_PATH,
    { schema: { hide: true } },
    async (req, reply) => {
      const blocked = refused(req, reply);
      if (blocked) return blocked;
      const ticket = typeof req.query.ticket === 'string' ? req.query.ticket : '';
      const value = await deps.tickets.peek(ticket, 'password-change');
      const user = value ? await deps.store.users.findById(value.userId) : undefined;
      if (!user) return badTicket(req, reply);
      return resetForm(reply, 200, ticket, user, []);
    },
  );

  app.post<{ Body: Record<string, unknown> | undefined }>(
    RESET_PASSWORD_PATH,
    { schema: { hide: true }, bodyLimit: 16 * 1024 },
    async (req, reply) => {
      const blocked = refused(req, reply);
      if (blocked) return blocked;
      const field = (name: string) => {
        const value = req.body?.[name];
        return typeof value === 'string' ? value : '';
      };
      const ticket = field('ticket');
      const value = await deps.tickets.take(ticket, 'password-change');
      const user = value ? await deps.store.users.findById(value.userId) : undefined;
      if (!value || !user) return badTicket(req, reply);
      const retry = async (status: number, errors: readonly string[]) => {
        await deps.tickets.restore(ticket, value);
        return resetForm(reply, status, ticket, user, errors);
      };
      if (!deps.tickets.checkCsrf(ticket, field('csrf_token'))) {
        return retry(403, [text('reset.form_expired')]);
      }
      const password = field('password');
      if (password === '') return retry(400, [text('reset.missing_password')]);
      if (password !== field('password_confirmation')) return retry(400, [text('reset.passwords_differ')]);
      const event = {
        userId: user.userId,
        userName: user.email,
        clientId: value.clientId,
        connection: user.identities[0]?.connection,
        strategy: 'auth0',
        strategyType: 'database',
        ...facts(req),
      };
      try {
        await users.update(user.userId, {
          password,
          ...(value.markEmailAsVerified === true ? { email_verified: true } : {}),
        });
      } catch (error) {
        if (!(error instanceof PasswordRejected)) throw error;
        deps.events.record({ type: 'fcp', description: error.rejection.message, ...event });
        return retry(400, [
          text('reset.rejected', { reason: error.rejection.message }),
          ...error.rejection.rules.map(ruleSentence),
        ]);
      }
      deps.events.record({ type: 'scp', description: 'Password changed through a reset link', ...event });
      if (value.resultUrl !== undefined) return reply.redirect(resultLocation(value, user, true), 302);
      return message(reply, 200, 'reset.done_title', 'reset.done', false);
    },
  );

  app.get<{ Querystring: { ticket?: string } }>(
    EMAIL_VERIFICATION_PATH,
    { schema: { hide: true } },
    async (req, reply) => {
      const blocked = refused(req, reply);
      if (blocked) return blocked;
      const ticket = typeof req.query.ticket === 'string' ? req.query.ticket : '';
      const value = await deps.tickets.take(ticket, 'email-verification');
      const user = value ? await deps.store.users.findById(value.userId) : undefined;
      if (!value || !user) return badTicket(req, reply);
      await users.update(user.userId, { email_verified: true });
      deps.events.record({
        type: 'sv',
        description: 'Email verified',
        userId: user.userId,
        userName: user.email,
        clientId: value.clientId,
        ...facts(req),
      });
      if (value.resultUrl !== undefined) return reply.redirect(resultLocation(value, user, true), 302);
      return message(reply, 200, 'verify.done_title', 'verify.done', false);
    },
  );
};

/** Auth0 appends `success` and `message` to result_url, and the email when the ticket asked for it. */
function resultLocation(ticket: Ticket, user: User, success: boolean): string {
  const url = new URL(ticket.resultUrl ?? '');
  url.searchParams.set('success', String(success));
  url.searchParams.set(
    'message',
    text(ticket.kind === 'password-change' ? 'reset.result_message' : 'verify.result_message'),
  );
  if (ticket.includeEmailInRedirect === true && user.email !== undefined)
    url.searchParams.set('email', user.email);
  return url.href;
}
