import nodemailer from 'nodemailer';
import type { MailSettings } from '../config/schema.js';

/** One email, in both its forms: mail clients show the HTML and fall back to the text. */
export interface MailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/** Sends the server's email (password reset, verification). */
export interface MailSender {
  send(message: MailMessage): Promise<void>;
}

/** Where the log sender writes (the app's logger once it exists). */
export type MailLog = (message: string, detail: Record<string, unknown>) => void;

/** Thrown when the SMTP server refuses the message or cannot be reached; the caller decides what to answer. */
export class MailNotSent extends Error {}

/** Sends through the SMTP server of LATCHKEY_SMTP_URL (smtps:// for TLS from the start, smtp:// with STARTTLS when offered). */
export function createSmtpSender(smtpUrl: string, from: string): MailSender {
  const transport = nodemailer.createTransport(smtpUrl);
  return {
    async send(message) {
      try {
        await transport.sendMail({
          from,
          to: message.to,
          subject: message.subject,
          text: message.text,
          html: message.html,
        });
      } catch (error) {
        // nodemailer's message names the server's answer, never the mail's content.
        throw new MailNotSent(
          `the SMTP server did not take the message: ${error instanceof Error ? error.message : String(error)}`,
          {
            cause: error,
          },
        );
      }
    },
  };
}

/**
 * Without SMTP, each message goes to the log at info (recipient, subject and the text with its link), so a
 * developer can follow the link. Messages never hold a password, only single-use links.
 */
export function createLogSender(log: MailLog): MailSender {
  return {
    send(message) {
      log('email not sent (LATCHKEY_SMTP_URL is not set)', {
        to: message.to,
        subject: message.subject,
        text: message.text,
      });
      return Promise.resolve();
    },
  };
}

export function createMailSender(settings: MailSettings | undefined, log: MailLog): MailSender {
  return settings?.smtpUrl !== undefined
    ? createSmtpSender(settings.smtpUrl, settings.from)
    : createLogSender(log);
}
