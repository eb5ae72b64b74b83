import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load.js';

const SECRET = 'x'.repeat(40);

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-config-'));
    const config = loadConfig({ LATCHKEY_DATABASE_URL: `sqlite:${dir}/db.sqlite` });
    expect(config).toMatchObject({
      port: 3000,
      host: '0.0.0.0',
      issuer: 'http://localhost:3000/',
      redisUrl: undefined,
      bootstrapClientId: undefined,
      bootstrapClientSecret: undefined,
      server: {
        requestTimeoutMs: 30_000,
        headersTimeoutMs: 10_000,
        keepAliveTimeoutMs: 72_000,
        connectionTimeoutMs: 60_000,
        maxConnections: 10_000,
        shutdownTimeoutMs: 10_000,
      },
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.server)).toBe(true);
  });

  it('derives the default issuer from PORT', () => {
    expect(loadConfig({ PORT: '8080', LATCHKEY_DATABASE_URL: 'sqlite::memory:' }).issuer).toBe(
      'http://localhost:8080/',
    );
  });

  it('generates LATCHKEY_SECRET into the data folder once and reuses it (SQLite)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-config-'));
    const env = { LATCHKEY_DATABASE_URL: `sqlite:${dir}/data/latchkey.sqlite` };
    const first = loadConfig(env).secret;
    const second = loadConfig(env).secret;
    expect(first).toHaveLength(43);
    expect(second).toBe(first);
    expect(readFileSync(join(dir, 'data', 'secret.key'), 'utf8').trim()).toBe(first);
    expect(statSync(join(dir, 'data', 'secret.key')).mode & 0o777).toBe(0o600);
  });

  it('requires LATCHKEY_SECRET with PostgreSQL', () => {
    expect(() => loadConfig({ LATCHKEY_DATABASE_URL: 'postgres://db/latchkey' })).toThrow(
      /LATCHKEY_SECRET: required when the database is PostgreSQL/,
    );
    expect(
      loadConfig({ LATCHKEY_DATABASE_URL: 'postgres://db/latchkey', LATCHKEY_SECRET: SECRET }).secret,
    ).toBe(SECRET);
  });

  it('names every bad variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        LATCHKEY_ISSUER: 'https://id.example.com',
        LATCHKEY_DATABASE_URL: 'mysql://x',
        LATCHKEY_REDIS_URL: 'http://cache',
        LATCHKEY_SECRET: 'short',
        LATCHKEY_BOOTSTRAP_CLIENT_ID: 'only-the-id',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.map((p) => p.split(':')[0]);
    expect(problems).toEqual([
      'PORT',
      'LATCHKEY_ISSUER',
      'LATCHKEY_DATABASE_URL',
      'LATCHKEY_REDIS_URL',
      'LATCHKEY_BOOTSTRAP_CLIENT_ID and LATCHKEY_BOOTSTRAP_CLIENT_SECRET',
      'LATCHKEY_SECRET',
    ]);
  });

  it.each([
    ['ftp://id.example.com/', 'must be an http(s) URL'],
    ['https://id.example.com/?x=1', 'must not have a query'],
    ['not a url', 'not a URL'],
    ['HTTPS://Example.COM/', 'canonical form: "https://example.com/"'],
    ['https://example.com:443/', 'canonical form: "https://example.com/"'],
  ])('refuses issuer %s', (issuer, why) => {
    expect(() => loadConfig({ LATCHKEY_ISSUER: issuer, LATCHKEY_DATABASE_URL: 'sqlite::memory:' })).toThrow(
      why,
    );
  });

  it('accepts a bootstrap client given as a pair', () => {
    const config = loadConfig({
      LATCHKEY_DATABASE_URL: 'sqlite::memory:',
      LATCHKEY_BOOTSTRAP_CLIENT_ID: 'ops-bot',
      LATCHKEY_BOOTSTRAP_CLIENT_SECRET: 'a-long-enough-secret',
    });
    expect([config.bootstrapClientId, config.bootstrapClientSecret]).toEqual([
      'ops-bot',
      'a-long-enough-secret',
    ]);
  });

  it.each([
    ['PORT', ''],
    ['PORT', '0x50'],
    ['PORT', '1e3'],
    ['PORT', '70000'],
    ['HOST', ''],
    ['LATCHKEY_TRUST_PROXY', 'yes please'],
    ['LATCHKEY_TRUST_PROXY', 'loopback'],
    ['LATCHKEY_TRUST_PROXY', '10.0.0.0/33'],
    ['LATCHKEY_TRUST_PROXY', '10.0.0'],
    ['LATCHKEY_TRUST_PROXY', '10.0.0.1,'],
    ['LATCHKEY_TRUST_PROXY', '2001:db8::/129'],
  ])('refuses %s=%j', (name, value) => {
    expect(() => loadConfig({ [name]: value, LATCHKEY_DATABASE_URL: 'sqlite::memory:' })).toThrow(
      new RegExp(`^Invalid configuration:\\n  - ${name}:`),
    );
  });

  it.each([
    [undefined, false],
    ['0', false],
    // One hop: the proxy in front; never every entry, which the client writes itself.
    ['true', 1],
    ['1', 1],
    ['2', 2],
    ['10.0.0.0/8, 127.0.0.1', '10.0.0.0/8, 127.0.0.1'],
    ['10.0.0.1,2001:db8::/32', '10.0.0.1, 2001:db8::/32'],
  ])('reads LATCHKEY_TRUST_PROXY=%j as %j (off by default: X-Forwarded-For is not believed)', (raw, want) => {
    const env = raw === undefined ? {} : { LATCHKEY_TRUST_PROXY: raw };
    expect(loadConfig({ ...env, LATCHKEY_DATABASE_URL: 'sqlite::memory:' }).trustProxy).toEqual(want);
  });

  it('refuses a secret file that is too short instead of using it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-config-'));
    writeFileSync(join(dir, 'secret.key'), '\n');
    expect(() => loadConfig({ LATCHKEY_DATABASE_URL: `sqlite:${dir}/db.sqlite` })).toThrow(
      /LATCHKEY_SECRET: .*secret\.key holds fewer than 32 characters/,
    );
  });

  it('writes no secret file when another variable is bad', () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-config-'));
    expect(() => loadConfig({ PORT: 'x', LATCHKEY_DATABASE_URL: `sqlite:${dir}/db.sqlite` })).toThrow(/PORT/);
    expect(existsSync(join(dir, 'secret.key'))).toBe(false);
  });

  it('reads the server timeouts in seconds (milliseconds allowed) and the connection cap', () => {
    const config = loadConfig({
      LATCHKEY_DATABASE_URL: 'sqlite::memory:',
      LATCHKEY_REQUEST_TIMEOUT: '5',
      LATCHKEY_KEEP_ALIVE_TIMEOUT: '0.25',
      LATCHKEY_MAX_CONNECTIONS: '3',
      LATCHKEY_SHUTDOWN_TIMEOUT: '2.5',
      LATCHKEY_LOG_RETENTION_DAYS: '7',
      LATCHKEY_MY_ACCOUNT_RATE_LIMIT: '50',
    });
    expect(config.server).toEqual({
      requestTimeoutMs: 5000,
      // The headers cannot take longer than the whole request.
      headersTimeoutMs: 5000,
      keepAliveTimeoutMs: 250,
      connectionTimeoutMs: 60_000,
      maxConnections: 3,
      shutdownTimeoutMs: 2500,
      logRetentionDays: 7,
      myAccountRateLimit: 50,
    });
    expect(
      loadConfig({ LATCHKEY_DATABASE_URL: 'sqlite::memory:', LATCHKEY_HEADERS_TIMEOUT: '3' }).server
        .headersTimeoutMs,
    ).toBe(3000);
  });

  it.each([
    ['LATCHKEY_REQUEST_TIMEOUT', '0'],
    ['LATCHKEY_REQUEST_TIMEOUT', '-1'],
    ['LATCHKEY_REQUEST_TIMEOUT', '30s'],
    ['LATCHKEY_HEADERS_TIMEOUT', '3601'],
    ['LATCHKEY_KEEP_ALIVE_TIMEOUT', '1.2345'],
    ['LATCHKEY_SHUTDOWN_TIMEOUT', ''],
    ['LATCHKEY_MAX_CONNECTIONS', '0'],
    ['LATCHKEY_MAX_CONNECTIONS', '1.5'],
    ['LATCHKEY_MAX_CONNECTIONS', '10000000'],
    ['LATCHKEY_LOG_RETENTION_DAYS', '0'],
    ['LATCHKEY_LOG_RETENTION_DAYS', '3651'],
    ['LATCHKEY_LOG_RETENTION_DAYS', '1.5'],
    ['LATCHKEY_MY_ACCOUNT_RATE_LIMIT', '0'],
    ['LATCHKEY_MY_ACCOUNT_RATE_LIMIT', '2.5'],
  ])('refuses %s=%j', (name, value) => {
    expect(() => loadConfig({ [name]: value, LATCHKEY_DATABASE_URL: 'sqlite::memory:' })).toThrow(
      new RegExp(`^Invalid configuration:\\n  - ${name}:`),
    );
  });

  it('refuses a headers timeout longer than the request timeout', () => {
    expect(() =>
      loadConfig({
        LATCHKEY_DATABASE_URL: 'sqlite::memory:',
        LATCHKEY_REQUEST_TIMEOUT: '5',
        LATCHKEY_HEADERS_TIMEOUT: '6',
      }),
    ).toThrow('LATCHKEY_HEADERS_TIMEOUT: must not exceed LATCHKEY_REQUEST_TIMEOUT');
  });

  it('reads the mail settings: no SMTP and a From at the issuer host by default', () => {
    const base = { LATCHKEY_DATABASE_URL: 'sqlite::memory:', LATCHKEY_ISSUER: 'https://id.example.com/' };
    expect(loadConfig(base).mail).toEqual({ smtpUrl: undefined, from: 'Latchkey <no-reply@id.example.com>' });
    expect(
      loadConfig({
        ...base,
        LATCHKEY_SMTP_URL: 'smtps://user:pass@smtp.example.com:465',
        LATCHKEY_MAIL_FROM: 'Acme <auth@acme.example>',
      }).mail,
    ).toEqual({ smtpUrl: 'smtps://user:pass@smtp.example.com:465', from: 'Acme <auth@acme.example>' });
  });

  it('reads the SMS gateway settings: none by default, the URL and its bearer token when set', () => {
    const base = { LATCHKEY_DATABASE_URL: 'sqlite::memory:' };
    expect(loadConfig(base).sms).toEqual({ url: undefined, token: undefined });
    expect(
      loadConfig({
        ...base,
        LATCHKEY_SMS_URL: 'https://sms.example.com/send',
        LATCHKEY_SMS_TOKEN: 'gateway-token',
      }).sms,
    ).toEqual({ url: 'https://sms.example.com/send', token: 'gateway-token' });
    expect(loadConfig({ ...base, LATCHKEY_SMS_URL: 'http://127.0.0.1:9000/sms' }).sms).toEqual({
      url: 'http://127.0.0.1:9000/sms',
      token: undefined,
    });
    expect(Object.isFrozen(loadConfig(base).sms)).toBe(true);
  });

  it.each([
    ['LATCHKEY_SMS_URL', 'smtp://sms.example.com', 'LATCHKEY_SMS_URL: must be an http:// or https:// URL'],
    ['LATCHKEY_SMS_URL', 'sms.example.com/send', 'LATCHKEY_SMS_URL: must be an http:// or https:// URL'],
    ['LATCHKEY_SMS_URL', 'https://', 'LATCHKEY_SMS_URL: must be an http:// or https:// URL'],
    ['LATCHKEY_SMTP_URL', 'http://smtp.example.com', 'LATCHKEY_SMTP_URL: must be an smtp:// or smtps:// URL'],
    ['LATCHKEY_SMTP_URL', 'smtp://user:hunter2@', 'LATCHKEY_SMTP_URL: must be an smtp:// or smtps:// URL'],
    ['LATCHKEY_MAIL_FROM', 'not an address', 'LATCHKEY_MAIL_FROM: an address'],
    ['LATCHKEY_MAIL_FROM', 'A <a@b.c>\r\nBcc: x@y.z', 'LATCHKEY_MAIL_FROM: an address'],
  ])('refuses %s=%s', (name, value, message) => {
    let error: unknown;
    try {
      loadConfig({ [name]: value, LATCHKEY_DATABASE_URL: 'sqlite::memory:' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).toContain(message);
    // A password in the SMTP URL never reaches the error text.
    expect(String(error)).not.toContain('hunter2');
  });
});
