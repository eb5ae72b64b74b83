import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import {
  DEFAULT_DATABASE_URL,
  DEFAULT_SERVER_SETTINGS,
  MIN_SECRET_LENGTH,
  defaultMailFrom,
  type Config,
  type Env,
  type MailSettings,
  type SmsSettings,
  type ServerSettings,
} from './schema.js';

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/**
 * Reads, validates and freezes the configuration. The only reader of process.env.
 * `needsSecret: false` (migrate) neither requires LATCHKEY_SECRET nor creates the secret file.
 * @throws ConfigError naming every bad variable.
 */
export function loadConfig(env: Env = process.env, { needsSecret = true } = {}): Config {
  const problems: string[] = [];
  const port = parsePort(env['PORT'], problems);
  const host = env['HOST'] ?? '0.0.0.0';
  if (host.trim() === '') problems.push('HOST: must not be empty');
  const issuer = parseIssuer(env['LATCHKEY_ISSUER'] ?? `http://localhost:${port}/`, problems);
  const databaseUrl = env['LATCHKEY_DATABASE_URL'] ?? DEFAULT_DATABASE_URL;
  if (!/^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(databaseUrl)) {
    problems.push('LATCHKEY_DATABASE_URL: must be sqlite:<path>, sqlite::memory: or postgres://…');
  }
  const redisUrl = env['LATCHKEY_REDIS_URL'];
  if (redisUrl !== undefined && !/^rediss?:\/\/.+/.test(redisUrl)) {
    problems.push('LATCHKEY_REDIS_URL: must be a redis:// or rediss:// URL');
  }
  const clientId = env['LATCHKEY_BOOTSTRAP_CLIENT_ID'];
  const clientSecret = env['LATCHKEY_BOOTSTRAP_CLIENT_SECRET'];
  if ((clientId === undefined) !== (clientSecret === undefined)) {
    problems.push('LATCHKEY_BOOTSTRAP_CLIENT_ID and LATCHKEY_BOOTSTRAP_CLIENT_SECRET: set both or neither');
  }
  if (clientId !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(clientId)) {
    problems.push('LATCHKEY_BOOTSTRAP_CLIENT_ID: 1-64 characters of A-Z a-z 0-9 _ . -');
  }
  if (clientSecret !== undefined && clientSecret.length < 16) {
    problems.push('LATCHKEY_BOOTSTRAP_CLIENT_SECRET: at least 16 characters');
  }
  const logLevel = env['LATCHKEY_LOG_LEVEL'] ?? 'info';
  if (!LOG_LEVELS.has(logLevel)) problems.push(`LATCHKEY_LOG_LEVEL: one of ${[...LOG_LEVELS].join(', ')}`);
  const trustProxy = parseTrustProxy(env['LATCHKEY_TRUST_PROXY'], problems);
  const server = parseServerSettings(env, problems);
  const mail = parseMailSettings(env, issuer, problems);
  const sms = parseSmsSettings(env, problems);
  // Only a config that is otherwise valid may create the secret file.
  const secret = resolveSecret(env['LATCHKEY_SECRET'], databaseUrl, problems, {
    required: needsSecret,
    mayCreate: problems.length === 0,
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    port,
    host,
    issuer,
    databaseUrl,
    redisUrl,
    secret,
    bootstrapClientId: clientId,
    bootstrapClientSecret: clientSecret,
    logLevel,
    trustProxy,
    server,
    mail,
    sms,
  });
}

/** LATCHKEY_SMS_URL (an http(s) gateway URL) and LATCHKEY_SMS_TOKEN (its bearer token). */
function parseSmsSettings(env: Env, problems: string[]): SmsSettings {
  const url = env['LATCHKEY_SMS_URL'];
  if (url !== undefined && !/^https?:\/\/[^/\s]+/.test(url)) {
    problems.push('LATCHKEY_SMS_URL: must be an http:// or https:// URL');
  }
  return Object.freeze({ url, token: env['LATCHKEY_SMS_TOKEN'] });
}

/** LATCHKEY_SMTP_URL (smtp:// or smtps://, with a host) and LATCHKEY_MAIL_FROM (an address, optionally with a name). */
function parseMailSettings(env: Env, issuer: string, problems: string[]): MailSettings {
  const smtpUrl = env['LATCHKEY_SMTP_URL'];
  if (smtpUrl !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(smtpUrl);
    } catch {
      url = undefined;
    }
    // The URL may carry a password: never echo it.
    if (!url || (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') || url.hostname === '') {
      problems.push('LATCHKEY_SMTP_URL: must be an smtp:// or smtps:// URL with a host');
    }
  }
  const from = env['LATCHKEY_MAIL_FROM'] ?? defaultMailFrom(issuer);
  if (!/^([^<>\r\n]*<[^<>@\s]+@[^<>@\s]+>|[^<>@\s]+@[^<>@\s]+)$/.test(from.trim())) {
    problems.push('LATCHKEY_MAIL_FROM: an address, optionally with a name: "Name <no-reply@example.com>"');
  }
  return Object.freeze({ smtpUrl, from: from.trim() });
}

function parsePort(raw: string | undefined, problems: string[]): number {
  if (raw === undefined) return 3000;
  const port = Number(raw);
  if (!/^\d{1,5}$/.test(raw) || port > 65535) {
    problems.push(`PORT: must be an integer 0-65535, got "${raw}"`);
    return 3000;
  }
  return port;
}

function parseIssuer(raw: string, problems: string[]): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push(`LATCHKEY_ISSUER: not a URL: "${raw}"`);
    return raw;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    problems.push('LATCHKEY_ISSUER: must be an http(s) URL');
  }
  if (!raw.endsWith('/')) problems.push('LATCHKEY_ISSUER: must end with "/"');
  if (url.search || url.hash) problems.push('LATCHKEY_ISSUER: must not have a query or fragment');
  // openid-client compares `new URL(issuer).href` with the published issuer, so only the canonical form works.
  else if (raw.endsWith('/') && url.href !== raw) {
    problems.push(`LATCHKEY_ISSUER: write it in canonical form: "${url.href}"`);
  }
  return raw;
}

/** A given secret is always checked; without one, `required` finds or makes one (migrations need none). */
function resolveSecret(
  raw: string | undefined,
  databaseUrl: string,
  problems: string[],
  { required, mayCreate }: { readonly required: boolean; readonly mayCreate: boolean },
): string {
  if (raw !== undefined) {
    if (raw.length < MIN_SECRET_LENGTH) {
      problems.push(`LATCHKEY_SECRET: at least ${MIN_SECRET_LENGTH} characters`);
    }
    return raw;
  }
  if (!required) return '';
  if (!databaseUrl.startsWith('sqlite:')) {
    problems.push('LATCHKEY_SECRET: required when the database is PostgreSQL');
    return '';
  }
  if (databaseUrl === 'sqlite::memory:') return randomBytes(32).toString('base64url');
  const path = join(dirname(databaseUrl.slice('sqlite:'.length)), 'secret.key');
  if (existsSync(path)) {
    const secret = readFileSync(path, 'utf8').trim();
    if (secret.length < MIN_SECRET_LENGTH) {
      problems.push(`LATCHKEY_SECRET: ${path} holds fewer than ${MIN_SECRET_LENGTH} characters`);
    }
    return secret;
  }
  return mayCreate ? createSecretFile(path) : '';
}

// The embedded default keeps its generated key beside the database so restarts can decrypt.
function createSecretFile(path: string): string {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/**
 * Which X-Forwarded-For entries to believe: none (`false`), the last `n` hops, or those added by the listed
 * proxies. `true` means one hop, the proxy in front of the server: believing every entry would let a client
 * name any address it likes in the header and escape the per-address limits.
 */
function parseTrustProxy(raw: string | undefined, problems: string[]): false | number | string {
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return 1;
  if (/^\d{1,2}$/.test(raw)) return Number(raw) === 0 ? false : Number(raw);
  const entries = raw.split(',').map((entry) => entry.trim());
  if (entries.every(isAddressOrRange)) return entries.join(', ');
  problems.push(
    'LATCHKEY_TRUST_PROXY: true (one hop), false, a hop count, or comma-separated proxy addresses/CIDRs',
  );
  return false;
}

function isAddressOrRange(entry: string): boolean {
  const [address = '', prefix, extra] = entry.split('/');
  const version = isIP(address);
  if (version === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128);
}

const MAX_TIMEOUT_SECONDS = 3600;

function parseServerSettings(env: Env, problems: string[]): ServerSettings {
  const seconds = (name: string, fallbackMs: number): number => {
    const raw = env[name];
    if (raw === undefined) return fallbackMs;
    const value = Number(raw);
    if (!/^\d+(\.\d{1,3})?$/.test(raw) || value <= 0 || value > MAX_TIMEOUT_SECONDS) {
      problems.push(`${name}: seconds, more than 0 and at most ${MAX_TIMEOUT_SECONDS}, got "${raw}"`);
      return fallbackMs;
    }
    return Math.round(value * 1000);
  };
  const defaults = DEFAULT_SERVER_SETTINGS;
  const requestTimeoutMs = seconds('LATCHKEY_REQUEST_TIMEOUT', defaults.requestTimeoutMs);
  const headersTimeoutMs = seconds(
    'LATCHKEY_HEADERS_TIMEOUT',
    Math.min(defaults.headersTimeoutMs, requestTimeoutMs),
  );
  if (headersTimeoutMs > requestTimeoutMs) {
    problems.push('LATCHKEY_HEADERS_TIMEOUT: must not exceed LATCHKEY_REQUEST_TIMEOUT');
  }
  const keepAliveTimeoutMs = seconds('LATCHKEY_KEEP_ALIVE_TIMEOUT', defaults.keepAliveTimeoutMs);
  const shutdownTimeoutMs = seconds('LATCHKEY_SHUTDOWN_TIMEOUT', defaults.shutdownTimeoutMs);
  let maxConnections = defaults.maxConnections;
  const rawMax = env['LATCHKEY_MAX_CONNECTIONS'];
  if (rawMax !== undefined) {
    maxConnections = Number(rawMax);
    if (!/^\d{1,7}$/.test(rawMax) || maxConnections < 1) {
      problems.push(`LATCHKEY_MAX_CONNECTIONS: an integer from 1 to 9999999, got "${rawMax}"`);
      maxConnections = defaults.maxConnections;
    }
  }
  let logRetentionDays = defaults.logRetentionDays;
  const rawRetention = env['LATCHKEY_LOG_RETENTION_DAYS'];
  if (rawRetention !== undefined) {
    logRetentionDays = Number(rawRetention);
    if (!/^\d{1,4}$/.test(rawRetention) || logRetentionDays < 1 || logRetentionDays > 3650) {
      problems.push(`LATCHKEY_LOG_RETENTION_DAYS: whole days from 1 to 3650, got "${rawRetention}"`);
      logRetentionDays = defaults.logRetentionDays;
    }
  }
  let myAccountRateLimit = defaults.myAccountRateLimit;
  const rawMyAccount = env['LATCHKEY_MY_ACCOUNT_RATE_LIMIT'];
  if (rawMyAccount !== undefined) {
    myAccountRateLimit = Number(rawMyAccount);
    if (!/^\d{1,7}$/.test(rawMyAccount) || myAccountRateLimit < 1) {
      problems.push(
        `LATCHKEY_MY_ACCOUNT_RATE_LIMIT: requests per second, 1 to 9999999, got "${rawMyAccount}"`,
      );
      myAccountRateLimit = defaults.myAccountRateLimit;
    }
  }
  return Object.freeze({
    requestTimeoutMs,
    headersTimeoutMs,
    keepAliveTimeoutMs,
    connectionTimeoutMs: defaults.connectionTimeoutMs,
    maxConnections,
    shutdownTimeoutMs,
    logRetentionDays,
    myAccountRateLimit,
  });
}
