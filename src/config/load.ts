import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DEFAULT_DATABASE_URL, MIN_SECRET_LENGTH, type Config, type Env } from './schema.js';

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/**
 * Reads, validates and freezes the configuration. The only reader of process.env.
 * @throws ConfigError naming every bad variable.
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const port = parsePort(env['PORT'], problems);
  const host = env['HOST'] ?? '0.0.0.0';
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
  const secret = resolveSecret(env['LATCHKEY_SECRET'], databaseUrl, problems);
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
  });
}

function parsePort(raw: string | undefined, problems: string[]): number {
  if (raw === undefined) return 3000;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
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
  return raw;
}

function resolveSecret(raw: string | undefined, databaseUrl: string, problems: string[]): string {
  if (raw !== undefined) {
    if (raw.length < MIN_SECRET_LENGTH) {
      problems.push(`LATCHKEY_SECRET: at least ${MIN_SECRET_LENGTH} characters`);
    }
    return raw;
  }
  if (!databaseUrl.startsWith('sqlite:')) {
    problems.push('LATCHKEY_SECRET: required when the database is PostgreSQL');
    return '';
  }
  if (databaseUrl === 'sqlite::memory:') return randomBytes(32).toString('base64url');
  return readOrCreateSecretFile(join(dirname(databaseUrl.slice('sqlite:'.length)), 'secret.key'));
}

// The embedded default keeps its generated key beside the database so restarts can decrypt.
function readOrCreateSecretFile(path: string): string {
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  mkdirSync(dirname(path), { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return secret;
}
