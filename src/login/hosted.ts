import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import type { Client } from '../domain/client.js';
import type { Connection } from '../domain/connection.js';
import type { User } from '../domain/user.js';
import type { RequestFacts } from '../logs/token-events.js';
import {
  formIsGenuine,
  transactionCookieName,
  transactionCookiePath,
  type LoginTransaction,
} from '../oauth/authorize/transaction.js';
import type { Deps } from '../server/deps.js';
import { readCookie } from '../server/sessions.js';
import { createAuthorization } from './authorization.js';
import { PASSWORD_AMR } from './mfa-step.js';

/** Longest login name and password the forms accept (Auth0 caps passwords at 72 bytes for bcrypt; names at 320). */
export const MAX_USERNAME = 320;
export const MAX_PASSWORD = 1024;

/** One state of the login transaction: the transaction and its client. */
export interface Opened {
  readonly tx: LoginTransaction;
  readonly client: Client;
}

/**
 * What the hosted pages of a login transaction share (/u/login, /u/signup, /u/reset-password/request): their
 * URLs, opening the transaction named by `state`, checking a posted form, and the last step once the user is
 * known (the SSO session, then the authorization's answer).
 */
export function createHostedPages(deps: Deps, log: FastifyBaseLogger) {
  const flow = createAuthorization(deps, log);
  const base = new URL(deps.config.issuer).pathname;
  const paths = {
    login: `${base}u/login`,
    signup: `${base}u/signup`,
    resetRequest: `${base}u/reset-password/request`,
    loginPasskey: `${base}u/login/passkey`,
    passkeyOffer: `${base}u/passkey-offer`,
    mfa: `${base}u/mfa`,
    mfaPasskey: `${base}u/mfa/passkey`,
    mfaEnrol: `${base}u/mfa-enrol`,
    assets: `${base}u/assets/`,
  };
  /** A page of the transaction, e.g. `paths.login?state=…`. */
  const link = (path: string, tx: LoginTransaction) => `${path}?state=${encodeURIComponent(tx.id)}`;

  /**
   * The transaction named by `state`, left in place, and its client. Only the step that completes it
   * (`signedIn`) takes it, so a wrong password, a refused sign-up or a second tab costs no write and loses nothing.
   */
  const open = async (state: unknown): Promise<Opened | undefined> => {
    if (typeof state !== 'string' || state === '') return undefined;
    const tx = await flow.transactions.peek(state);
    // A consent transaction is answered on the consent page only, a passkey offer on its own page.
    if (!tx || tx.consent || tx.passkeyOffer || tx.mfa) return undefined;
    const client = await deps.lookups.client(tx.request.clientId);
    return client ? { tx, client } : undefined;
  };

  /** The posted form comes from a page of this transaction, in the browser that started it. */
  const genuine = (req: FastifyRequest, tx: LoginTransaction, body: Record<string, unknown>): boolean =>
    formIsGenuine(tx, body['csrf'], readCookie(req.headers.cookie, transactionCookieName(tx.id)));

  /**
   * A form posted to a page of the transaction: its fields and the opened transaction; or undefined once the
   * error page is sent (400 for a transaction gone or unknown, 403 for a form from elsewhere).
   */
  const openPosted = async (
    req: FastifyRequest,
    reply: FastifyReply,
  ): Promise<{ body: Record<string, unknown>; opened: Opened } | undefined> => {
    const body = isRecord(req.body) ? req.body : {};
    const opened = await open(body['state']);
    if (!opened) {
      flow.pageError(reply, 400, 'error.transaction_expired');
      return undefined;
    }
    if (!genuine(req, opened.tx, body)) {
      flow.pageError(reply, 403, 'error.csrf');
      return undefined;
    }
    return { body, opened };
  };

  /**
   * The database connection the transaction signs in with (`connection` or the tenant's default directory),
   * when it exists and is enabled for the client; the login page needs it to offer sign-up and reset links.
   */
  const connectionOf = async (opened: Opened): Promise<Connection | undefined> => {
    let name = opened.tx.request.connection;
    if (name === undefined) {
      const fallback = (await deps.lookups.tenantSettings())['default_directory'];
      name = typeof fallback === 'string' && fallback !== '' ? fallback : undefined;
    }
    if (name === undefined) return undefined;
    const connection = await deps.lookups.connection(name);
    return connection?.strategy === 'auth0' && connection.enabledClients.includes(opened.client.clientId)
      ? connection
      : undefined;
  };

  /**
   * The user is known: the SSO session starts, the transaction ends, and the authorization is answered.
   * `taken` runs once the transaction is ours, before the session starts (the passkey offer stores the passkey).
   * `auth` says how the user signed in (RFC 8176 `amr`, `mfa` in it for a multi-factor sign-in); with
   * `raise`, the browser's SSO session of that id passed a second factor and goes on instead of a new one.
   */
  const signedIn = async (
    req: FastifyRequest,
    reply: FastifyReply,
    opened: Opened,
    user: User,
    taken?: () => Promise<void>,
    auth: { amr: readonly string[]; raise?: string | undefined } = { amr: PASSWORD_AMR },
  ): Promise<FastifyReply> => {
    // The transaction completes once: a second tab that finished it meanwhile finds it gone.
    if (!(await flow.transactions.take(opened.tx.id)))
      return flow.pageError(reply, 400, 'error.transaction_expired');
    await taken?.();
    const path = transactionCookiePath(deps.config.issuer);
    const clearTx = `${transactionCookieName(opened.tx.id)}=; Path=${path}; HttpOnly; Max-Age=0`;
    // A sign-in forced by prompt=login or max_age replaces the browser's session: the old cookie stops working.
    const previous = await flow.sessions.current(req.headers.cookie);
    if (auth.raise !== undefined) {
      // The session signed out (or was replaced) while the second factor was asked: nothing left to raise.
      if (previous?.id !== auth.raise || previous.userId !== user.userId)
        return flow.pageError(reply.header('set-cookie', clearTx), 400, 'error.transaction_expired');
      const raised = await flow.sessions.recordMfa(previous, auth.amr);
      void reply.header('set-cookie', clearTx);
      return flow.finish(reply, opened.client, opened.tx.request, user, raised);
    }
    const { session, setCookies } = await flow.sessions.start(
      user.userId,
      { ip: req.ip, userAgent: req.headers['user-agent'] },
      opened.client.clientId,
      previous,
      auth.amr,
    );
    void reply.header('set-cookie', [...setCookies, clearTx]);
    return flow.finish(reply, opened.client, opened.tx.request, user, session);
  };

  return { flow, paths, link, open, genuine, openPosted, connectionOf, signedIn };
}
export type HostedPages = ReturnType<typeof createHostedPages>;

export function requestFacts(req: FastifyRequest): RequestFacts {
  return { ip: req.ip, userAgent: req.headers['user-agent'], hostname: req.hostname };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A posted text field, or '' when absent or not a string. */
export function field(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  return typeof value === 'string' ? value : '';
}
