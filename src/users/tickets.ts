import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { OneTimeStore } from '../server/one-time-store.js';

/** Auth0's default ticket lifetime (five days) when `ttl_sec` is absent or 0. */
export const DEFAULT_TICKET_TTL_SECONDS = 432_000;
/** Auth0 caps ticket lifetimes at 30 days. */
export const MAX_TICKET_TTL_SECONDS = 2_592_000;

export type TicketKind = 'password-change' | 'email-verification';

/** What a ticket lets its holder do, stored under the ticket's digest (the ticket itself is never stored). */
export interface Ticket {
  readonly kind: TicketKind;
  readonly userId: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
  readonly resultUrl?: string | undefined;
  readonly clientId?: string | undefined;
  readonly markEmailAsVerified?: boolean | undefined;
  readonly includeEmailInRedirect?: boolean | undefined;
}

export interface TicketDeps {
  readonly oneTime: OneTimeStore;
  readonly now: () => number;
  /** Keys the CSRF tokens of the pages that redeem tickets. */
  readonly secret: string;
}

const digest = (ticket: string) => createHash('sha256').update(ticket).digest('base64url');
const keyOf = (ticket: string) => `ticket:${digest(ticket)}`;

/**
 * Single-use, expiring tickets (password change, email verification) in the one-time store. The store's own
 * expiry bounds storage; `expiresAt` is checked against the app's clock as well, so every backend expires a
 * ticket at the same moment.
 */
export function createTickets(deps: TicketDeps) {
  async function put(ticket: string, value: Ticket): Promise<void> {
    const ttlSeconds = Math.ceil((value.expiresAt - deps.now()) / 1000);
    if (ttlSeconds <= 0) return;
    await deps.oneTime.putOnce(keyOf(ticket), JSON.stringify(value), ttlSeconds);
  }

  async function take(ticket: string, kind: TicketKind): Promise<Ticket | undefined> {
    if (ticket.length === 0 || ticket.length > 200) return undefined;
    return valid(await deps.oneTime.takeOnce(keyOf(ticket)), kind);
  }

  function valid(raw: string | undefined, kind: TicketKind): Ticket | undefined {
    if (raw === undefined) return undefined;
    const value = JSON.parse(raw) as Ticket;
    if (value.kind !== kind || value.expiresAt <= deps.now()) return undefined;
    return value;
  }

  return {
    /** @returns the new ticket: 32 random bytes, base64url. */
    async issue(value: Omit<Ticket, 'expiresAt'>, ttlSeconds: number): Promise<string> {
      const ticket = randomBytes(32).toString('base64url');
      await put(ticket, { ...value, expiresAt: deps.now() + ttlSeconds * 1000 });
      return ticket;
    },
    /** Takes the ticket: from now on nobody else can use it. */
    take,
    /** Reads the ticket without using it up. */
    async peek(ticket: string, kind: TicketKind): Promise<Ticket | undefined> {
      if (ticket.length === 0 || ticket.length > 200) return undefined;
      return valid(await deps.oneTime.peek(keyOf(ticket)), kind);
    },
    /** Puts back a taken ticket whose redemption failed (e.g. a refused password), until its own expiry. */
    restore: put,
    /** The CSRF token of the page that redeems `ticket`: only a page this server rendered for the ticket has it. */
    csrfToken(ticket: string): string {
      return createHmac('sha256', deps.secret)
        .update(`ticket-csrf:${digest(ticket)}`)
        .digest('base64url');
    },
    checkCsrf(ticket: string, token: string): boolean {
      const expected = Buffer.from(this.csrfToken(ticket));
      const given = Buffer.from(token);
      return expected.length === given.length && timingSafeEqual(expected, given);
    },
  };
}

export type Tickets = ReturnType<typeof createTickets>;
