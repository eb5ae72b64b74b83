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
  /** Whether X-Forwarded-For is believed (brute-force protection keys on the client IP). */
  readonly trustProxy: boolean | number | string;
}

export type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_DATABASE_URL = 'sqlite:./data/latchkey.sqlite';
export const MIN_SECRET_LENGTH = 32;
