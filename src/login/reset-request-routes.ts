import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { requestPasswordReset } from '../dbconnections/change-password.js';
import { message, type MessageKey } from '../pages/messages.js';
import { DEFAULT_TENANT_NAME } from '../pages/look.js';
import { sendPage } from '../pages/render.js';
import type { Deps } from '../server/deps.js';
import { addressKey } from '../server/failed-auth-limit.js';
import { field, MAX_USERNAME, requestFacts, type HostedPages, type Opened } from './hosted.js';

/**
 * "Forgot your password?" (`/u/reset-password/request`), a state of the login transaction: the address goes
 * through /dbconnections/change_password's path, whose email links to /u/reset-password. The answer is the
 * same whether the address has an account or not.
 */
export const resetRequestRoutes: FastifyPluginAsync<{ deps: Deps; hosted: HostedPages }> = async (
  app,
  { deps, hosted },
) => {
  const { flow, paths } = hosted;
  const address = (req: FastifyRequest) => addressKey(deps.tenantId, req.ip);

  const form = (
    reply: FastifyReply,
    opened: Opened,
    view: { status: number; email: string; error: MessageKey | undefined },
  ) => {
    const tenant = reply.request.pageLook?.tenantName ?? DEFAULT_TENANT_NAME;
    return sendPage(reply.status(view.status), 'reset-request', {
      issuer: deps.config.issuer,
      action: paths.resetRequest,
      state: opened.tx.id,
      csrf: opened.tx.csrf,
      email: view.email,
      error: view.error === undefined ? undefined : message(view.error),
      loginUrl: hosted.link(paths.login, opened.tx),
      t: {
        title: message('reset_request.title'),
        subtitle: message('reset_request.subtitle', { tenant }),
        email: message('reset_request.email'),
        submit: message('reset_request.submit'),
        back: message('reset_request.back'),
      },
    });
  };

  app.get('/u/reset-password/request', { schema: { hide: true } }, async (req, reply) => {
    const opened = await hosted.open((req.query as Record<string, unknown>)['state']);
    if (!opened) return flow.pageError(reply, 400, 'error.transaction_expired');
    return form(reply, opened, { status: 200, email: opened.tx.request.loginHint ?? '', error: undefined });
  });

  app.post(
    '/u/reset-password/request',
    { schema: { hide: true }, bodyLimit: 16 * 1024 },
    async (req, reply) => {
      const posted = await hosted.openPosted(req, reply);
      if (!posted) return reply;
      const { body, opened } = posted;
      const email = field(body, 'email').trim();
      const again = (status: number, error: MessageKey) =>
        form(reply, opened, { status, email: email.slice(0, MAX_USERNAME), error });
      if (deps.failedAuth.refusal(address(req))) return again(429, 'login.suspicious_ip');
      if (email === '' || email.length > MAX_USERNAME) return again(400, 'reset_request.missing_email');
      const connection = await hosted.connectionOf(opened);
      if (!connection) return again(400, 'reset_request.unavailable');
      // Every request counts against the address, as on /dbconnections/change_password: no flooding inboxes.
      await deps.failedAuth.recordFailure(address(req), req.log);
      await requestPasswordReset(deps, {
        client: opened.client,
        connection,
        email: email.toLowerCase(),
        facts: requestFacts(req),
        log: req.log,
      });
      return sendPage(reply.status(200), 'reset-request-sent', {
        issuer: deps.config.issuer,
        loginUrl: hosted.link(paths.login, opened.tx),
        t: {
          title: message('reset_request.sent_title'),
          text: message('reset_request.sent', { email }),
          back: message('reset_request.back'),
        },
      });
    },
  );
};
