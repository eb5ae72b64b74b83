import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createStorage, dropSchema } from '../../src/storage/db.js';

const BIN = ['--import', 'tsx', 'src/bin/latchkey.ts'];

interface Run {
  readonly child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function run(args: string[], env: Record<string, string>): Run {
  const child = spawn(process.execPath, [...BIN, ...args], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const append = (d: Buffer) => {
    out += d.toString();
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      resolve(code);
    });
  });
  return { child, output: () => out, exited };
}

async function waitFor(url: string, ms = 20_000): Promise<Response> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await fetch(url);
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('latchkey start on a bare machine (embedded SQLite)', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    for (const c of cleanups.splice(0)) await c();
  });

  it('creates the data folder, prints generated bootstrap credentials once, and serves a working tenant', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-start-'));
    dirs.push(dir);
    const port = String(4100 + Math.floor(Math.random() * 800));
    const env = {
      PORT: port,
      HOST: '127.0.0.1',
      LATCHKEY_DATABASE_URL: `sqlite:${dir}/data/latchkey.sqlite`,
      LATCHKEY_LOG_LEVEL: 'warn',
    };
    const first = run(['start'], env);
    children.push(first.child);
    const discovery = await waitFor(`http://127.0.0.1:${port}/.well-known/openid-configuration`);
    expect(((await discovery.json()) as { issuer: string }).issuer).toBe(`http://localhost:${port}/`);
    const id = /client_id:\s+(\S+)/.exec(first.output())?.[1];
    const secret = /client_secret:\s+(\S+)/.exec(first.output())?.[1];
    expect(id).toMatch(/^[A-Za-z0-9]{32}$/);
    const token = await fetch(`http://127.0.0.1:${port}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: id ?? '',
        client_secret: secret ?? '',
        audience: `http://localhost:${port}/api/v2/`,
      }),
    });
    expect(token.status).toBe(200);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = run(['start'], env);
    children.push(second.child);
    await waitFor(`http://127.0.0.1:${port}/.well-known/jwks.json`);
    expect(second.output()).not.toMatch(/client_secret/);
    second.child.kill('SIGTERM');
    await second.exited;

    const wrongSecret = run(['start'], {
      ...env,
      LATCHKEY_SECRET: 'a-different-secret-of-32-characters-long',
    });
    children.push(wrongSecret.child);
    expect(await wrongSecret.exited).toBe(1);
    expect(wrongSecret.output()).toBe(
      'Invalid configuration:\n  - LATCHKEY_SECRET: cannot decrypt the stored signing keys; it differs from the secret this database was written with\n',
    );
  });

  it('stops with exit code 1 and names every bad variable', async () => {
    const bad = run(['start'], {
      PORT: 'x',
      LATCHKEY_DATABASE_URL: 'postgres://127.0.0.1/none',
      LATCHKEY_ISSUER: 'https://a.example.com',
    });
    expect(await bad.exited).toBe(1);
    expect(bad.output()).toMatch(/PORT: must be an integer/);
    expect(bad.output()).toMatch(/LATCHKEY_ISSUER: must end with "\/"/);
    expect(bad.output()).toMatch(/LATCHKEY_SECRET: required when the database is PostgreSQL/);
  });

  it('migrate applies the schema once and then reports it up to date', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-migrate-'));
    dirs.push(dir);
    const env = { LATCHKEY_DATABASE_URL: `sqlite:${dir}/m.sqlite` };
    const first = run(['migrate'], env);
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('applied: 0001-initial, 0002-users');
    const second = run(['migrate'], env);
    expect(await second.exited).toBe(0);
    expect(second.output()).toContain('schema is up to date');
    // Only start needs the secret: migrating must not generate one.
    expect(existsSync(join(dir, 'secret.key'))).toBe(false);
  });

  it.runIf(process.env['LATCHKEY_TEST_POSTGRES_URL'])(
    'migrate runs on PostgreSQL without LATCHKEY_SECRET, and still refuses a bad one',
    async () => {
      const base = process.env['LATCHKEY_TEST_POSTGRES_URL'] ?? '';
      // A schema of its own: the database's public schema belongs to whichever branch ran last.
      const schema = `st_${randomBytes(6).toString('hex')}`;
      await (await createStorage(base, { schema })).close();
      cleanups.push(() => dropSchema(base, schema));
      const url = `${base}${base.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
      const ok = run(['migrate'], { LATCHKEY_DATABASE_URL: url });
      expect(await ok.exited).toBe(0);
      expect(ok.output()).toMatch(/applied: 0001-initial, 0002-users, 0003-tenant-keys-identities/);
      const bad = run(['migrate'], { LATCHKEY_DATABASE_URL: url, LATCHKEY_SECRET: 'short' });
      expect(await bad.exited).toBe(1);
      expect(bad.output()).toMatch(/LATCHKEY_SECRET: at least 32 characters/);
    },
  );
});
