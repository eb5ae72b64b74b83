import formbody from '@fastify/formbody';
import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Client } from '../domain/client.js';
import type { Session } from '../domain/session.js';
import { logoutFailureEvent, logoutSuccessEvent } from '../logs/logout-events.js';
import type { RequestFacts } from '../logs/token-events.js';
import { formActionSource } from '../oauth/authorize/respond.js';
import { END_SESSION_ENDPOINT_DISCOVERY } from '../oauth/discovery.js';
import { message, type MessageKey } from '../pages/messages.js';
import { sendPage } from '../pages/render.js';
import type { Deps } from '../server/deps.js';
import { createSessions } from '../server/sessions.js';
import { tenantName } from '../users/account-links.js';
import { verifyIdTokenHint, type IdTokenHint } from './id-token-hint.js';
import { clientLogoutUrls, logoutUrlAllowed, logoutUrlsOf, withState } from './logout-urls.js';

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/** Longest value each parameter may have; longer ones are refused rather than stored or echoed. */
const MAX_LENGTHS: Readonly<Record<string, number>> = {
  client_id: 200,
  returnTo: 4096,
  post_logout_redirect_uri: 4096,
  state: 2048,
  id_token_hint: 16 * 1024,
  logout_hint: 200,
  federated: 100,
  ui_locales: 200,
};

/** How long the confirmation form of /oidc/logout stays usable. */
const CONFIRM_SECONDS = 600;

class LogoutRefused extends Error {
  constructor(
    readonly key: MessageKey,
    readonly returnTo?: string,
  ) {
    super(message(key));
  }
}

/** A confirmation the user has not given yet: what to end and where to go then. */
interface PendingLogout {
  readonly sessionId: string;
  readonly clientId: string | undefined;
  readonly redirect: string | undefined;
}

/**
 * Logout: Auth0's `GET /v2/logout` and OIDC RP-Initiated Logout 1.0 at `/oidc/logout` (GET and POST). Both end
 * the SSO session behind the `auth0` cookie, clear the cookie, and send the browser to an allowed logout URL
 * or show the signed-out page. A return URL that is not allowed is never followed.
 */
export const logoutRoutes: FastifyPluginAsync<{ deps: Deps }> = async (app, { deps }) => {
  await app.register(formbody);
  const { issuer } = deps.config;
  const sessions = createSessions(deps);
  const confirmPath = `${new URL(issuer).pathname}oidc/logout/confirm`;
  const pendingKey = (csrf: string) => `logout-confirm:${csrf}`;

  const refusalPage = (reply: FastifyReply, error: LogoutRefused): FastifyReply =>
    sendPage(reply.status(400), 'error', {
      issuer,
      title: message('logout.error_title'),
      message: error.message,
      code: undefined,
    });

  /** Ends `session` (when there is one), clears the cookie, logs `slo`, then redirects or says so. */
  const complete = async (
    req: FastifyRequest,
    reply: FastifyReply,
    ended: { session: Session | undefined; client: Client | undefined; redirect: string | undefined },
  ): Promise<FastifyReply> => {
    if (ended.session) await sessions.end(ended.session);
    deps.events.record(
      logoutSuccessEvent(
        {
          clientId: ended.client?.clientId,
          clientName: ended.client?.name,
          userId: ended.session?.userId,
          sessionId: ended.session?.id,
          returnTo: ended.redirect,
        },
        requestFacts(req),
      ),
    );
    void reply.headers({ ...NO_STORE, 'set-cookie': sessions.clearCookies() });
    if (ended.redirect !== undefined) return reply.redirect(ended.redirect, 302);
    const tenant = await tenantName(deps);
    return sendPage(reply, 'signed-out', {
      issuer,
      title: message('logout.signed_out_title'),
      text: message('logout.signed_out_text', { tenant }),
    });
  };

  /** Answers a refusal with the error page (never a redirect), logged as Auth0's `flo`. */
  const refuse = (req: FastifyRequest, reply: FastifyReply, error: unknown, client?: Client) => {
    if (!(error instanceof LogoutRefused)) throw error;
    deps.events.record(
      logoutFailureEvent(
        {
          clientId: client?.clientId,
          clientName: client?.name,
          userId: undefined,
          sessionId: undefined,
          returnTo: error.returnTo,
        },
        requestFacts(req),
        error.message,
      ),
    );
    return refusalPage(reply, error);
  };

  const findClient = async (clientId: string | undefined): Promise<Client | undefined> => {
    if (clientId === undefined) return undefined;
    const client = await deps.lookups.client(clientId);
    if (!client) throw new LogoutRefused('logout.unknown_client');
    return client;
  };

  /** The client's allowed logout URLs, or the tenant's when no client is named (Auth0's rule). */
  const allowedUrls = async (client: Client | undefined): Promise<string[]> =>
    client ? clientLogoutUrls(client) : logoutUrlsOf(await deps.lookups.tenantSettings());

  /**
   * Where to go after logout: the requested URL when it is allowed; without one, the client's first allowed
   * logout URL (as Auth0 does when client_id is sent); else nowhere (the signed-out page).
   */
  const destination = async (
    client: Client | undefined,
    requested: string | undefined,
  ): Promise<string | undefined> => {
    const allowed = await allowedUrls(client);
    if (requested !== undefined) {
      if (!logoutUrlAllowed(requested, allowed))
        throw new LogoutRefused('logout.return_to_not_allowed', requested);
      return requested;
    }
    return client ? allowed.find((url) => !url.includes('*')) : undefined;
  };

  // No HEAD twin for the GET routes: a link checker's HEAD must not end anyone's session.
  app.get('/v2/logout', { schema: { hide: true }, exposeHeadRoute: false }, async (req, reply) => {
    let client: Client | undefined;
    try {
      const p = readParams(req.query);
      client = await findClient(p['client_id']);
      const redirect = await destination(client, p['returnTo']);
      // `federated` is accepted: there is no upstream identity provider to sign out of.
      const session = await sessions.current(req.headers.cookie);
      return await complete(req, reply, { session, client, redirect });
    } catch (error) {
      return refuse(req, reply, error, client);
    }
  });

  const oidcLogout = async (req: FastifyRequest, reply: FastifyReply, raw: unknown) => {
    let client: Client | undefined;
    try {
      const p = readParams(raw);
      let hint: IdTokenHint | undefined;
      if (p['id_token_hint'] !== undefined) {
        hint = await verifyIdTokenHint(p['id_token_hint'], deps);
        if (!hint) throw new LogoutRefused('logout.invalid_id_token_hint');
      }
      client = hint?.client;
      if (p['client_id'] !== undefined) {
        if (hint && hint.client.clientId !== p['client_id'])
          throw new LogoutRefused('logout.client_mismatch');
        client ??= await findClient(p['client_id']);
      }
      const logoutHint = p['logout_hint'];
      if (hint?.sid !== undefined && logoutHint !== undefined && hint.sid !== logoutHint)
        throw new LogoutRefused('logout.session_mismatch');
      let redirect = await destination(client, p['post_logout_redirect_uri']);
      if (redirect !== undefined && p['state'] !== undefined) redirect = withState(redirect, p['state']);

      const session = await sessions.current(req.headers.cookie);
      if (!session) {
        // Nothing in this browser; a verified token still ends the session it names (another cookie jar,
        // a browser that blocks the cookie), as long as it is that user's.
        const named = hint?.sid === undefined ? undefined : await deps.store.sessions.findById(hint.sid);
        const own = named && hint && named.userId === hint.sub ? named : undefined;
        return await complete(req, reply, { session: own, client, redirect });
      }
      if (hint) {
        const same = hint.sid !== undefined ? hint.sid === session.id : hint.sub === session.userId;
        if (!same) throw new LogoutRefused('logout.session_mismatch');
      } else if (logoutHint !== undefined) {
        if (logoutHint !== session.id) throw new LogoutRefused('logout.session_mismatch');
      } else {
        // Neither hint: the request could come from anywhere, so the user confirms (as Auth0 prompts).
        return await confirmPage(reply, { sessionId: session.id, clientId: client?.clientId, redirect });
      }
      return await complete(req, reply, { session, client, redirect });
    } catch (error) {
      return refuse(req, reply, error, client);
    }
  };

  const confirmPage = async (reply: FastifyReply, pending: PendingLogout): Promise<FastifyReply> => {
    const csrf = randomBytes(24).toString('base64url');
    await deps.oneTime.putOnce(pendingKey(csrf), JSON.stringify(pending), CONFIRM_SECONDS);
    const tenant = await tenantName(deps);
    return sendPage(
      reply,
      'logout-confirm',
      {
        issuer,
        action: confirmPath,
        csrf,
        t: {
          title: message('logout.confirm_title'),
          text: message('logout.confirm_text', { tenant }),
          submit: message('logout.confirm_submit'),
        },
      },
      // The form is answered by a 302 to the logout URL, which form-action governs too.
      pending.redirect === undefined ? {} : { formAction: formActionSource(pending.redirect) },
    );
  };

  app.get(
    '/oidc/logout',
    { config: { discovery: END_SESSION_ENDPOINT_DISCOVERY }, schema: { hide: true }, exposeHeadRoute: false },
    async (req, reply) => oidcLogout(req, reply, req.query),
  );
  app.post('/oidc/logout', { schema: { hide: true }, bodyLimit: 32 * 1024 }, async (req, reply) =>
    oidcLogout(req, reply, req.body),
  );

  app.post('/oidc/logout/confirm', { schema: { hide: true }, bodyLimit: 4 * 1024 }, async (req, reply) => {
    try {
      const csrf = isRecord(req.body) ? req.body['csrf'] : undefined;
      const raw =
        typeof csrf === 'string' && csrf !== '' && csrf.length <= 64
          ? await deps.oneTime.takeOnce(pendingKey(csrf))
          : undefined;
      if (raw === undefined) throw new LogoutRefused('logout.confirm_expired');
      const pending = JSON.parse(raw) as PendingLogout;
      // The form is bound to the session it was shown for: a token read from another browser's page ends nothing here.
      const session = await sessions.current(req.headers.cookie);
      if (session && session.id !== pending.sessionId) throw new LogoutRefused('logout.session_mismatch');
      const client = pending.clientId === undefined ? undefined : await deps.lookups.client(pending.clientId);
      return await complete(req, reply, { session, client, redirect: pending.redirect });
    } catch (error) {
      return refuse(req, reply, error);
    }
  });
};

/**
 * The request's parameters as single strings. A repeated, oversized or empty one is refused (an empty value
 * would otherwise read as "not sent" in one place and "sent" in another).
 */
function readParams(raw: unknown): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  if (!isRecord(raw)) return out;
  for (const [name, max] of Object.entries(MAX_LENGTHS)) {
    const value = raw[name];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.length > max) throw new LogoutRefused('logout.bad_parameter');
    // `federated` is a flag sent without a value.
    if (value === '' && name !== 'federated') continue;
    out[name] = value;
  }
  return out;
}

function requestFacts(req: FastifyRequest): RequestFacts {
  return { ip: req.ip, userAgent: req.headers['user-agent'], hostname: req.hostname };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
