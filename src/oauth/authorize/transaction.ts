import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { OneTimeValues } from './codes.js';
import type { AuthorizeRequest } from './request.js';

/** How long the user has to sign in after /authorize. */
export const TRANSACTION_LIFETIME_SECONDS = 900;

/** A pending authorization request waiting for the user to sign in (the `state` of /u/login). */
export interface LoginTransaction {
  readonly id: string;
  /** The login form's CSRF token: only a page rendered for this transaction can post to it. */
  readonly csrf: string;
  /** Held in a cookie of the browser that made the request: the form posts only from that browser. */
  readonly browser: string;
  readonly request: AuthorizeRequest;
  readonly expiresAt: number;
  /** Set when the user is known and only their consent is missing (the state of /u/consent). */
  readonly consent?: ConsentStep;
  /** Set when the user signed in with a password and is offered a passkey (the state of /u/passkey-offer). */
  readonly passkeyOffer?: PasskeyOfferStep;
  /** Set when the user passed the first factor and a second one is needed (the state of /u/mfa, /u/mfa-enrol). */
  readonly mfa?: MfaStep;
}

/**
 * The second factor at sign-in: who passed the first factor and how, and the factor being challenged (or the
 * TOTP enrolment being confirmed). Nothing secret is kept here: a sent code lives hashed in the oob store.
 */
export interface MfaStep {
  readonly userId: string;
  /** RFC 8176 methods of the first factor (`pwd`), or of the SSO session being raised. */
  readonly amr: readonly string[];
  /** The SSO session that lacks a second factor: it is raised (recordMfa) instead of a new one started. */
  readonly sessionId?: string;
  /** Challenge an enrolled factor, or enrol TOTP (the user has no usable factor). */
  readonly kind: 'challenge' | 'enrol';
  /** The enrolment challenged, or the pending TOTP enrolment being confirmed. */
  readonly enrolmentId: string;
  /** The `oob_code` of the email or SMS code sent for the challenged enrolment. */
  readonly oobCode?: string;
  /** Set once the second factor passed: the sign-in's full amr; only Continue is left. */
  readonly passed?: readonly string[];
}

/** Who signed in, and the creation options (with their challenge) the offer page hands the browser. */
export interface PasskeyOfferStep {
  readonly userId: string;
  /** How the user signed in (RFC 8176), when a second factor came before the offer. */
  readonly amr?: readonly string[];
  /** WebAuthn PublicKeyCredentialCreationOptionsJSON; its `challenge` is the one the answer must carry. */
  readonly options: Readonly<Record<string, unknown>> & { readonly challenge: string };
}

/** Who is asked to consent, in which SSO session, and to exactly which scopes of which audience. */
export interface ConsentStep {
  readonly userId: string;
  readonly sessionId: string;
  readonly audience: string;
  readonly scopes: readonly string[];
}

/**
 * Login transactions in the one-time store: pages read them in place (`peek`); the step that completes one
 * takes it, so it completes once.
 */
export function createTransactionStore(values: OneTimeValues, nowSeconds: () => number) {
  const key = (id: string) => `login-tx:${id}`;
  const put = (tx: LoginTransaction) =>
    values.putOnce(key(tx.id), JSON.stringify(tx), tx.expiresAt - nowSeconds());
  const live = (raw: string | undefined): LoginTransaction | undefined => {
    if (raw === undefined) return undefined;
    const tx = JSON.parse(raw) as LoginTransaction;
    return tx.expiresAt > nowSeconds() ? tx : undefined;
  };
  return {
    async start(request: AuthorizeRequest, consent?: ConsentStep, mfa?: MfaStep): Promise<LoginTransaction> {
      const tx: LoginTransaction = {
        id: randomBytes(24).toString('base64url'),
        csrf: randomBytes(24).toString('base64url'),
        browser: randomBytes(24).toString('base64url'),
        request,
        expiresAt: nowSeconds() + TRANSACTION_LIFETIME_SECONDS,
        ...(consent ? { consent } : {}),
        ...(mfa ? { mfa } : {}),
      };
      await put(tx);
      return tx;
    },
    /** The transaction, left in place (undefined when unknown or expired). */
    async peek(id: string): Promise<LoginTransaction | undefined> {
      if (id.length > 64) return undefined;
      return live(await values.peek(key(id)));
    },
    /**
     * Moves the transaction to the passkey offer: taken, then stored again with the step, so of two requests
     * only one moves it (undefined for the other, or when it is gone).
     */
    async offerPasskey(id: string, step: PasskeyOfferStep): Promise<LoginTransaction | undefined> {
      if (id.length > 64) return undefined;
      const tx = live(await values.takeOnce(key(id)));
      if (!tx) return undefined;
      const next: LoginTransaction = { ...tx, passkeyOffer: step };
      await put(next);
      return next;
    },
    /** Moves the transaction to (or within) the second-factor step, as offerPasskey does. */
    async moveMfa(id: string, step: MfaStep): Promise<LoginTransaction | undefined> {
      if (id.length > 64) return undefined;
      const tx = live(await values.takeOnce(key(id)));
      if (!tx) return undefined;
      const next: LoginTransaction = { ...tx, mfa: step };
      await put(next);
      return next;
    },
    /** Takes the transaction (undefined when unknown, expired or already taken). */
    async take(id: string): Promise<LoginTransaction | undefined> {
      if (id.length > 64) return undefined;
      return live(await values.takeOnce(key(id)));
    },
  };
}
export type TransactionStore = ReturnType<typeof createTransactionStore>;

function sameSecret(expected: string, presented: unknown): boolean {
  if (typeof presented !== 'string' || presented === '') return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(presented).digest();
  return timingSafeEqual(a, b);
}

/**
 * The posted form belongs to this transaction and this browser: its CSRF token matches, and so does the
 * browser cookie set by /authorize (so a token read by someone else from their own page is no use here).
 * Both comparisons are constant-time.
 */
export function formIsGenuine(tx: LoginTransaction, csrf: unknown, browserCookie: unknown): boolean {
  const csrfOk = sameSecret(tx.csrf, csrf);
  const browserOk = sameSecret(tx.browser, browserCookie);
  return csrfOk && browserOk;
}

/** The name of the cookie that binds a transaction to the browser that started it (one per transaction). */
export function transactionCookieName(txId: string): string {
  return `auth0_tx_${txId.slice(0, 16)}`;
}

/** The transaction cookie goes to every hosted page (`/u/`): login, sign-up and the reset request share it. */
export function transactionCookiePath(issuer: string): string {
  return `${new URL(issuer).pathname}u/`;
}
