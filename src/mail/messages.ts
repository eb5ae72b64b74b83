import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { MailMessage } from './sender.js';

// tsc copies no templates: src/mail and dist/mail sit at the same depth, so both read them from src.
const VIEWS = fileURLToPath(new URL('../../src/mail/views/', import.meta.url));

// The HTML forms escape every interpolation; the text forms are plain text and must not be escaped.
const html = new Eta({ views: VIEWS, cache: true, autoEscape: true });
const text = new Eta({ views: VIEWS, cache: true, autoEscape: false, autoTrim: false });

/** Who the message is from, in words: the tenant's friendly name. */
interface Sender {
  readonly tenantName: string;
}

function compose(view: string, to: string, subject: string, data: Record<string, unknown>): MailMessage {
  const it = { ...data, subject };
  return {
    to,
    subject,
    text: text.render(`./${view}.txt.eta`, it),
    html: html.render(`./${view}.html.eta`, it),
  };
}

function lifetime(seconds: number): string {
  if (seconds % 86_400 === 0) return plural(seconds / 86_400, 'day');
  if (seconds % 3600 === 0) return plural(seconds / 3600, 'hour');
  return plural(Math.max(1, Math.round(seconds / 60)), 'minute');
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** Every email the server sends, one function each. */
export const mailMessages = {
  passwordReset(input: Sender & { to: string; link: string; ttlSeconds: number }): MailMessage {
    return compose('password-reset', input.to, `Reset your ${input.tenantName} password`, {
      tenantName: input.tenantName,
      link: input.link,
      lifetime: lifetime(input.ttlSeconds),
    });
  },

  /** A second-factor code (email enrolment or challenge): the code itself, never a link. */
  oneTimeCode(input: Sender & { to: string; code: string; ttlSeconds: number }): MailMessage {
    return compose('one-time-code', input.to, `Your ${input.tenantName} verification code`, {
      tenantName: input.tenantName,
      code: input.code,
      lifetime: lifetime(input.ttlSeconds),
    });
  },

  verifyEmail(input: Sender & { to: string; link: string; ttlSeconds: number }): MailMessage {
    return compose('verify-email', input.to, `Verify your email for ${input.tenantName}`, {
      tenantName: input.tenantName,
      link: input.link,
      lifetime: lifetime(input.ttlSeconds),
    });
  },
};
