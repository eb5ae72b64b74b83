/** One text message: the number (E.164) and what it says. Voice senders read the same text aloud. */
export interface SmsMessage {
  readonly to: string;
  readonly body: string;
  /** `sms`, or `voice` when the enrolment prefers a call. */
  readonly channel: 'sms' | 'voice';
}

/** Sends the server's text messages (phone factor codes). */
export interface SmsSender {
  send(message: SmsMessage): Promise<void>;
}

/** Where the development sender writes (the app's logger once it exists). */
export type SmsLog = (message: string, detail: Record<string, unknown>) => void;

/** Thrown when the gateway refuses or cannot be reached: the caller answers it, nothing was enrolled. */
export class SmsNotSent extends Error {}

/** Gives up on a gateway that does not answer, so a challenge request never hangs. */
const SEND_TIMEOUT_MS = 10_000;

/**
 * Posts `{to, body, channel}` as JSON to LATCHKEY_SMS_URL (a gateway of the operator's, e.g. a small adapter to
 * Twilio); a bearer token from LATCHKEY_SMS_TOKEN when set. Any 2xx is sent.
 */
export function createHttpSmsSender(url: string, token: string | undefined): SmsSender {
  return {
    async send(message) {
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
          },
          body: JSON.stringify({ to: message.to, body: message.body, channel: message.channel }),
          signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
        });
      } catch (error) {
        throw new SmsNotSent('the SMS gateway could not be reached', { cause: error });
      }
      // The body is drained so the connection can be reused; its content is the gateway's business.
      await response.arrayBuffer().catch(() => undefined);
      if (!response.ok) throw new SmsNotSent(`the SMS gateway answered ${response.status}`);
    },
  };
}

/** Without a gateway, each message goes to the log at info, so a developer can read the code. */
export function createLogSmsSender(log: SmsLog): SmsSender {
  return {
    send(message) {
      log('text message not sent (LATCHKEY_SMS_URL is not set)', { ...message });
      return Promise.resolve();
    },
  };
}

export function createSmsSender(
  settings: { readonly url: string | undefined; readonly token: string | undefined } | undefined,
  log: SmsLog,
): SmsSender {
  return settings?.url !== undefined
    ? createHttpSmsSender(settings.url, settings.token)
    : createLogSmsSender(log);
}
