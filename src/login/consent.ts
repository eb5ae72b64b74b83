import type { FastifyReply } from 'fastify';
import type { Client } from '../domain/client.js';
import type { Session } from '../domain/session.js';
import type { User } from '../domain/user.js';
import type { AuthorizeRequest } from '../oauth/authorize/request.js';
import {
  transactionCookieName,
  type ConsentStep,
  type LoginTransaction,
  type TransactionStore,
} from '../oauth/authorize/transaction.js';
import type { UserAccessDecision } from '../oauth/tokens/user-tokens.js';
import { message, type MessageKey } from '../pages/messages.js';
import type { Deps } from '../server/deps.js';

/** Auth0's answer when the user presses Decline. */
export const CONSENT_DECLINED = {
  error: 'access_denied',
  error_description: 'User did not authorize the request',
} as const;

/** Auth0's answer to prompt=none when the user would have to consent first. */
export const CONSENT_REQUIRED = { error: 'consent_required', error_description: 'Consent required' } as const;

/** The OIDC scopes that release data about the user, as the consent page words them. */
const IDENTITY_SCOPES: Readonly<Record<string, MessageKey>> = {
  profile: 'consent.scope.profile',
  email: 'consent.scope.email',
  address: 'consent.scope.address',
  phone: 'consent.scope.phone',
};

/** One line of the consent page: a scope and what it lets the application do. */
export interface ScopeItem {
  readonly scope: string;
  readonly description: string;
}

/**
 * What the user is asked to agree to: the identity scopes that release data (`openid` alone only says who the
 * user is, and `offline_access` is bounded by the client and the API, not by consent) and the API scopes the
 * policy allows (client grant ∩ RBAC), so the page never offers what the tokens could not carry.
 *
 * The grant is stored per (user, client, audience), as Auth0's user grants and `/api/v2/grants` are, with the
 * identity scopes kept in the same row as the API scopes of the request that showed them: one decision on the
 * page is one grant the user can see and withdraw whole. A request without an API stores its grant under the
 * userinfo audience, as the token issuer's consent lookup reads it.
 */
export function consentScopes(decision: UserAccessDecision): string[] {
  return [...decision.oidcScopes.filter((s) => s in IDENTITY_SCOPES), ...decision.apiScopes];
}

/** The transaction cookie for the consent page: scoped to its path, like the login page's. */
function consentCookie(tx: LoginTransaction, path: string, secure: boolean, maxAge: number): string {
  return [
    `${transactionCookieName(tx.id)}=${tx.browser}`,
    `Path=${path}`,
    'HttpOnly',
    'SameSite=Lax',
    ...(secure ? ['Secure'] : []),
    `Max-Age=${String(maxAge)}`,
  ].join('; ');
}

/** The consent step of an authorization: whether to ask, the page's data, and recording the answer. */
export function createConsent(deps: Deps, transactions: TransactionStore, nowSeconds: () => number) {
  const consentPath = `${new URL(deps.config.issuer).pathname}u/consent`;
  const secure = deps.config.issuer.startsWith('https:');

  return {
    consentPath,

    /**
     * The consent still missing for this request, or undefined when none is needed: third-party applications
     * need the user's stored grant to cover what they ask for; first-party ones are asked only under
     * prompt=consent, which asks again even over a stored grant (OIDC Core §3.1.2.1).
     */
    async missing(
      client: Client,
      request: AuthorizeRequest,
      user: User,
      session: Session,
      decision: UserAccessDecision,
    ): Promise<ConsentStep | undefined> {
      const forced = request.promptConsent === true;
      if (client.isFirstParty && !forced) return undefined;
      const scopes = consentScopes(decision);
      const audience = decision.target.identifier;
      const step = { userId: user.userId, sessionId: session.id, audience, scopes };
      if (forced) return step;
      if (scopes.length === 0) return undefined;
      const [stored] = await deps.store.consents.list(
        { userId: user.userId, clientId: client.clientId, audience },
        { offset: 0, limit: 1 },
      );
      const granted = new Set(stored?.scope ?? []);
      return scopes.every((s) => granted.has(s)) ? undefined : step;
    },

    /** Parks the request in a consent transaction and sends the browser to the consent page. */
    async ask(reply: FastifyReply, request: AuthorizeRequest, step: ConsentStep): Promise<FastifyReply> {
      const tx = await transactions.start(request, step);
      const cookie = consentCookie(tx, consentPath, secure, tx.expiresAt - nowSeconds());
      return reply
        .header('cache-control', 'no-store')
        .header('set-cookie', cookie)
        .redirect(`${consentPath}?state=${encodeURIComponent(tx.id)}`, 302);
    },

    /** Clears the transaction cookie once its form has been answered. */
    clearCookie(tx: LoginTransaction): string {
      return `${transactionCookieName(tx.id)}=; Path=${consentPath}; HttpOnly; Max-Age=0`;
    },

    /** Each scope with its wording: the identity scopes from the catalogue, API scopes from the API. */
    async items(
      step: ConsentStep,
    ): Promise<{ apiName: string | undefined; identity: ScopeItem[]; api: ScopeItem[] }> {
      const api = await deps.lookups.resourceServer(step.audience);
      const described = new Map(api?.scopes.map((s) => [s.value, s.description]) ?? []);
      const identity: ScopeItem[] = [];
      const apiItems: ScopeItem[] = [];
      for (const scope of step.scopes) {
        const key = IDENTITY_SCOPES[scope];
        if (key) identity.push({ scope, description: message(key) });
        else apiItems.push({ scope, description: described.get(scope) || scope });
      }
      return { apiName: api?.name, identity, api: apiItems };
    },

    /**
     * Records the user's consent: the scopes they saw are added to their grant for the client and audience (one
     * upsert that widens an existing grant, so two tabs accepting at once both land).
     */
    async record(tx: LoginTransaction, step: ConsentStep): Promise<void> {
      if (step.scopes.length === 0) return;
      const at = new Date(deps.clock.now()).toISOString();
      await deps.store.consents.upsert({
        id: deps.ids.prefixed('cgr'),
        userId: step.userId,
        clientId: tx.request.clientId,
        audience: step.audience,
        scope: step.scopes,
        createdAt: at,
        updatedAt: at,
      });
    },
  };
}
export type ConsentFlow = ReturnType<typeof createConsent>;
