import type { User } from '../domain/user.js';
import { mailMessages } from '../mail/messages.js';
import type { Deps } from '../server/deps.js';
import { DEFAULT_TICKET_TTL_SECONDS, type Ticket } from './tickets.js';

export const RESET_PASSWORD_PATH = '/u/reset-password';
export const EMAIL_VERIFICATION_PATH = '/u/email-verification';

/** The tenant's name as its pages and emails show it (tenant setting `friendly_name`). */
export async function tenantName(deps: Pick<Deps, 'lookups'>): Promise<string> {
  const name = (await deps.lookups.tenantSettings())['friendly_name'];
  return typeof name === 'string' && name.trim() !== '' ? name : 'Latchkey';
}

/** A ticket's link: the page that redeems it, under the issuer. */
export function ticketLink(issuer: string, path: string, ticket: string): string {
  return `${issuer}${path.slice(1)}?ticket=${encodeURIComponent(ticket)}`;
}

type TicketOptions = Omit<Ticket, 'kind' | 'userId' | 'expiresAt'>;

/** A password-change ticket for `user`, as a link to the reset page. */
export async function passwordChangeLink(
  deps: Deps,
  user: User,
  options: TicketOptions,
  ttlSeconds = DEFAULT_TICKET_TTL_SECONDS,
): Promise<string> {
  const ticket = await deps.tickets.issue(
    { kind: 'password-change', userId: user.userId, ...options },
    ttlSeconds,
  );
  return ticketLink(deps.config.issuer, RESET_PASSWORD_PATH, ticket);
}

/** An email-verification ticket for `user`, as a link to the landing page. */
export async function emailVerificationLink(
  deps: Deps,
  user: User,
  options: TicketOptions,
  ttlSeconds = DEFAULT_TICKET_TTL_SECONDS,
): Promise<string> {
  const ticket = await deps.tickets.issue(
    { kind: 'email-verification', userId: user.userId, ...options },
    ttlSeconds,
  );
  return ticketLink(deps.config.issuer, EMAIL_VERIFICATION_PATH, ticket);
}

/** Emails `user` a password-change link. */
export async function sendPasswordResetEmail(deps: Deps, user: User, options: TicketOptions): Promise<void> {
  if (user.email === undefined) return;
  const link = await passwordChangeLink(deps, user, options);
  await deps.mail.send(
    mailMessages.passwordReset({
      to: user.email,
      tenantName: await tenantName(deps),
      link,
      ttlSeconds: DEFAULT_TICKET_TTL_SECONDS,
    }),
  );
}

/** Emails `user` an email-verification link. */
export async function sendVerificationEmail(deps: Deps, user: User, options: TicketOptions): Promise<void> {
  if (user.email === undefined) return;
  const link = await emailVerificationLink(deps, user, options);
  await deps.mail.send(
    mailMessages.verifyEmail({
      to: user.email,
      tenantName: await tenantName(deps),
      link,
      ttlSeconds: DEFAULT_TICKET_TTL_SECONDS,
    }),
  );
}
