import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createStorage, dropSchema } from '../../src/storage/db.js';
import { openRaw } from '../helpers/raw-socket.js';
import { freePort } from '../helpers/ports.js';

const BIN = ['--import', 'tsx', 'src/bin/latchkey.ts'];

interface Run {
  readonly child: ChildProcess;
  output(): string;
  /** What went to stdout alone: the JSON log. */
  stdout(): string;
  /** What went to stderr alone. */
  stderr(): string;
  exited: Promise<number | null>;
}

function run(args: string[], env: Record<string, string>): Run {
  const child = spawn(process.execPath, [...BIN, ...args], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      resolve(code);
    });
  });
  return { child, output: () => out, stdout: () => stdout, stderr: () => stderr, exited };
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

// Each test starts the server from source (tsx compiles it at start): on two busy cores that took over 30 s.
describe('latchkey start on a bare machine (embedded SQLite)', { timeout: 120_000 }, () => {
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
    const port = String(await freePort());
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
    const id = /client_id:\s+(\S+)/.exec(first.stderr())?.[1];
    const secret = /client_secret:\s+(\S+)/.exec(first.stderr())?.[1];
    expect(id).toMatch(/^[A-Za-z0-9]{32}$/);
    // Issue 9: the secret is shown once on stderr, never in the JSON log on stdout.
    expect(first.stderr().split(secret ?? '').length).toBe(2);
    expect(first.stdout()).not.toContain(secret ?? '');
    // Only the owner may read the database, its journal and the generated key.
    const mode = (path: string) => statSync(path).mode & 0o777;
    expect(mode(join(dir, 'data'))).toBe(0o700);
    for (const file of ['latchkey.sqlite', 'latchkey.sqlite-wal', 'latchkey.sqlite-shm', 'secret.key']) {
      expect([file, mode(join(dir, 'data', file))]).toEqual([file, 0o600]);
    }
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

  const startServer = async (extra: Record<string, string> = {}) => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-stop-'));
    dirs.push(dir);
    const port = await freePort();
    const server = run(['start'], {
      PORT: String(port),
      HOST: '127.0.0.1',
      LATCHKEY_DATABASE_URL: `sqlite:${dir}/data/latchkey.sqlite`,
      LATCHKEY_LOG_LEVEL: 'warn',
      LATCHKEY_BOOTSTRAP_CLIENT_ID: 'stopper',
      LATCHKEY_BOOTSTRAP_CLIENT_SECRET: 'stopper-secret-0123456789',
      ...extra,
    });
    children.push(server.child);
    await waitFor(`http://127.0.0.1:${port}/.well-known/jwks.json`);
    return { server, port };
  };
  const tokenRequest = (port: number) => {
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: 'stopper',
      client_secret: 'stopper-secret-0123456789',
      audience: `http://localhost:${port}/api/v2/`,
    }).toString();
    const head = `POST /oauth/token HTTP/1.1\r\nHost: x\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: ${body.length}\r\n\r\n`;
    return { head, body };
  };
  const refused = async (port: number): Promise<boolean> =>
    openRaw(port).then(
      (raw) => {
        raw.socket.destroy();
        return false;
      },
      (error: unknown) => (error as NodeJS.ErrnoException).code === 'ECONNREFUSED',
    );

  it('on SIGTERM refuses new connections, closes idle ones, finishes the request in flight and exits 0', async () => {
    const { server, port } = await startServer();
    const idle = await openRaw(port);
    idle.socket.write('GET /.well-known/jwks.json HTTP/1.1\r\nHost: x\r\n\r\n');
    const slow = await openRaw(port);
    const { head, body } = tokenRequest(port);
    slow.socket.write(head + body.slice(0, 20));
    await new Promise((r) => setTimeout(r, 300));
    expect(idle.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);

    server.child.kill('SIGTERM');
    await idle.closedAfter;
    const until = Date.now() + 3000;
    while (!(await refused(port)) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(await refused(port)).toBe(true);
    expect(server.child.exitCode).toBeNull();

    slow.socket.write(body.slice(20));
    await slow.closedAfter;
    expect(slow.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*"access_token":"ey/);
    expect(await server.exited).toBe(0);
    expect(server.output()).not.toMatch(/shutdown/);
  });

  it('cuts a request still in flight at LATCHKEY_SHUTDOWN_TIMEOUT and exits 1 with a log line', async () => {
    const { server, port } = await startServer({ LATCHKEY_SHUTDOWN_TIMEOUT: '1' });
    const stuck = await openRaw(port);
    const { head, body } = tokenRequest(port);
    stuck.socket.write(head + body.slice(0, 20));
    await new Promise((r) => setTimeout(r, 200));
    const signalled = Date.now();
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(1);
    expect(Date.now() - signalled).toBeGreaterThanOrEqual(1000);
    await stuck.closedAfter;
    expect(stuck.received()).toBe('');
    const lines = server
      .output()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(lines.map(({ level, msg }) => ({ level, msg }))).toEqual([
      {
        level: 50,
        msg: 'shutdown: in-flight requests still running after the 1 s deadline; closing every open connection and exiting with code 1',
      },
    ]);
  });

  it('cuts at once on a second signal', async () => {
    const { server, port } = await startServer();
    const stuck = await openRaw(port);
    const { head, body } = tokenRequest(port);
    stuck.socket.write(head + body.slice(0, 20));
    await new Promise((r) => setTimeout(r, 200));
    server.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    expect(server.child.exitCode).toBeNull();
    const signalled = Date.now();
    server.child.kill('SIGINT');
    expect(await server.exited).toBe(1);
    expect(Date.now() - signalled).toBeLessThan(2000);
    await stuck.closedAfter;
    expect(server.output()).toContain(
      '"msg":"shutdown: SIGINT received again; closing every open connection and exiting with code 1"',
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
