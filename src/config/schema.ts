export interface Config {
  readonly port: number;
  readonly host: string;
  /** Public base URL, always ending in `/`; the `iss` claim. */
  readonly issuer: string;
  readonly databaseUrl: string;
  readonly redisUrl: string | undefined;
  /** Encrypts private keys and client secrets at rest. */
  readonly secret: string;
  readonly bootstrapClientId: string | undefined;
  readonly bootstrapClientSecret: string | undefined;
  readonly logLevel: string;
  /**
   * Which X-Forwarded-For entries are believed (brute-force protection keys on the client IP): none, the last
   * n hops, or those added by the listed proxy addresses/CIDRs (comma-separated).
   */
  readonly trustProxy: false | number | string;
  readonly server: ServerSettings;
  /** Outgoing email; absent in hand-built configs, which then log each message instead of sending it. */
  readonly mail?: MailSettings;
  /** Outgoing text messages (phone factor codes); absent or without a URL, each message is logged instead. */
  readonly sms?: SmsSettings;
}

/** Where text messages go: an HTTP gateway that takes `{to, body, channel}` as JSON. */
export interface SmsSettings {
  readonly url: string | undefined;
  /** Sent as `Authorization: Bearer …` to the gateway; never logged. */
  readonly token: string | undefined;
}

/** Where outgoing email (password reset, verification) goes. */
export interface MailSettings {
  /** `smtp://user:pass@host:587` or `smtps://…`; without it each message is written to the app's log. */
  readonly smtpUrl: string | undefined;
  /** The From header, e.g. `Latchkey <no-reply@id.example.com>`. */
  readonly from: string;
}

/** The From address when LATCHKEY_MAIL_FROM is not set: no-reply at the issuer's host. */
export function defaultMailFrom(issuer: string): string {
  let host = 'localhost';
  try {
    host = new URL(issuer).hostname;
  } catch {
    // An invalid issuer is reported by its own check.
  }
  return `Latchkey <no-reply@${host}>`;
}

/** HTTP server limits and the shutdown deadline. */
export interface ServerSettings {
  /** The whole request, headers and body, must arrive within this. */
  readonly requestTimeoutMs: number;
  /** The request line and headers must arrive within this. */
  readonly headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  readonly keepAliveTimeoutMs: number;
  /** A connection on which nothing moves (a stalled reader, a hung request) is closed after this. */
  readonly connectionTimeoutMs: number;
  /** Connections beyond this many open ones are refused. */
  readonly maxConnections: number;
  /** How long in-flight requests may take to finish after SIGTERM/SIGINT before they are cut. */
  readonly shutdownTimeoutMs: number;
  /** Tenant log events older than this many days are deleted (Auth0 keeps 1 to 30 by plan). */
  readonly logRetentionDays: number;
  /** My Account API (/me/v1) requests per second, all users of the tenant together (Auth0: 25). */
  readonly myAccountRateLimit: number;
}

export const DEFAULT_SERVER_SETTINGS: ServerSettings = Object.freeze({
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  // Above the 60 s idle timeout of common load balancers, so the balancer, not the server, closes first.
  keepAliveTimeoutMs: 72_000,
  connectionTimeoutMs: 60_000,
  maxConnections: 10_000,
  // Below Kubernetes' default 30 s grace period, so the deadline is ours and not SIGKILL's.
  shutdownTimeoutMs: 10_000,
  logRetentionDays: 30,
  myAccountRateLimit: 25,
});

export type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_DATABASE_URL = 'sqlite:./data/latchkey.sqlite';
export const MIN_SECRET_LENGTH = 32;
