// User search at 100,000 users, password-check cost and timing, and event-loop health while logins run.
// Usage: npm run bench:users [-- --users 100000 --postgres postgres://…]
import { spawn } from 'node:child_process';
import { clearInterval, setInterval } from 'node:timers';
import { hash as bcryptHash, verify as bcryptVerify } from '@node-rs/bcrypt';
import bcryptjs from 'bcryptjs';
import { verify as argon2Verify } from '@node-rs/argon2';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createStorage, dropSchema } from '../dist/storage/db.js';
import { migrateToLatest } from '../dist/storage/migrate.js';
import { createDeps } from '../dist/server/deps.js';
import { bootstrapTenant } from '../dist/bootstrap/service.js';
import { buildApp } from '../dist/app.js';
import { DEFAULT_SERVER_SETTINGS } from '../dist/config/schema.js';
import { BCRYPT_MAX_COST, hashPassword } from '../dist/users/passwords.js';
import { PASSWORD_CHECK_FLOOR_MS } from '../dist/users/authenticate.js';
import { sql } from 'kysely';
import { seedUsers } from './seed-users.js';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const USERS = Number(args.users ?? 100_000);
const ISSUER = 'http://127.0.0.1:3999/';
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x) => `${x.toFixed(1).padStart(7)} ms`;

async function argon2Cost() {
  await hashPassword('warm-up');
  const times = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    await hashPassword(`password-${i}`);
    times.push(performance.now() - t);
  }
  return { p50: pct(times, 50), p99: pct(times, 99) };
}

const median = (xs) => pct(xs, 50);
async function timeEach(n, run) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await run(i);
    times.push(performance.now() - t);
  }
  return times;
}

/** One verification of each kind, and how long the event loop stalls while three run in parallel. */
async function passwordCheckCost() {
  const argon2 = await hashPassword('bench-password');
  const capped = await bcryptHash('bench-password', BCRYPT_MAX_COST);
  const rows = [
    ['argon2id verify (thread pool)', () => argon2Verify(argon2, 'wrong')],
    [`bcrypt cost ${BCRYPT_MAX_COST}, @node-rs/bcrypt (thread pool)`, () => bcryptVerify('wrong', capped)],
    [
      `bcrypt cost ${BCRYPT_MAX_COST}, bcryptjs (main thread, before)`,
      () => bcryptjs.compare('wrong', capped),
    ],
  ];
  console.log(
    "\n  password checks: one verification p50; while 3 run in parallel, the longest event-loop stall and the main thread's busy share",
  );
  for (const [label, run] of rows) {
    await run();
    const one = median(await timeEach(10, run));
    let last = performance.now();
    let stall = 0;
    const sampler = setInterval(() => {
      const now = performance.now();
      stall = Math.max(stall, now - last);
      last = now;
    }, 1);
    const before = performance.eventLoopUtilization();
    await Promise.all([run(), run(), run()]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const busy = performance.eventLoopUtilization(before).utilization;
    clearInterval(sampler);
    console.log(
      `    ${label.padEnd(46)} ${ms(one)}   stall ${ms(stall)}   busy ${(busy * 100).toFixed(0).padStart(3)} %`,
    );
  }
}

/** What a caller sees: the answer time of each sign-in outcome, without and with the floor. */
async function signInTiming() {
  console.log(
    `\n  sign-in answer time by outcome (POST /oauth/token, password grant, SQLite, 15 runs, p50 / max)`,
  );
  console.log(
    `    ${''.padEnd(34)} ${'no floor'.padStart(20)}   ${`floor ${PASSWORD_CHECK_FLOOR_MS} ms`.padStart(20)}`,
  );
  const results = {};
  for (const floor of [0, PASSWORD_CHECK_FLOOR_MS]) {
    const storage = await createStorage('sqlite::memory:');
    await migrateToLatest(storage);
    const config = Object.freeze({
      port: 0,
      host: '127.0.0.1',
      issuer: ISSUER,
      databaseUrl: 'sqlite::memory:',
      redisUrl: undefined,
      secret: 'x'.repeat(40),
      bootstrapClientId: 'bench',
      bootstrapClientSecret: 'bench-secret-0123456789',
      logLevel: 'silent',
      trustProxy: false,
      server: DEFAULT_SERVER_SETTINGS,
    });
    const unlimited = { limit: 1e9, windowSeconds: 60 };
    const deps = createDeps(config, storage, {
      passwordCheckFloorMs: floor,
      failedLoginLimits: { perAddress: unlimited, perIdentifier: unlimited },
    });
    await bootstrapTenant(
      {
        tenantId: 'default',
        issuer: ISSUER,
        bootstrapClientId: 'bench',
        bootstrapClientSecret: 'bench-secret-0123456789',
      },
      deps,
    );
    const app = await buildApp(deps);
    const call = async (method, url, body, token) =>
      app.inject({ method, url, payload: body, headers: token ? { authorization: `Bearer ${token}` } : {} });
    const token = (
      await call('POST', '/oauth/token', {
        grant_type: 'client_credentials',
        client_id: 'bench',
        client_secret: 'bench-secret-0123456789',
        audience: `${ISSUER}api/v2/`,
      })
    ).json().access_token;
    const client = (
      await call('POST', '/api/v2/clients', { name: 'bench', grant_types: ['password'] }, token)
    ).json();
    const [conn] = (
      await call('GET', '/api/v2/connections?name=Username-Password-Authentication', undefined, token)
    ).json();
    await call('PATCH', `/api/v2/connections/${conn.id}`, { enabled_clients: [client.client_id] }, token);
    const password = 'Quiet-Harbor-4821';
    const users = {
      argon2: 'argon2@example.com',
      imported: 'imported@example.com',
      blocked: 'blocked@example.com',
    };
    for (const email of [users.argon2, users.blocked]) {
      await call('POST', '/api/v2/users', { connection: conn.name, email, password }, token);
    }
    await call(
      'POST',
      '/api/v2/users',
      {
        connection: conn.name,
        email: users.imported,
        custom_password_hash: {
          algorithm: 'bcrypt',
          hash: { value: await bcryptHash(password, BCRYPT_MAX_COST) },
        },
      },
      token,
    );
    const login = (username, pw, ip = '198.51.100.1') =>
      app.inject({
        method: 'POST',
        url: '/oauth/token',
        remoteAddress: ip,
        payload: {
          grant_type: 'password',
          client_id: client.client_id,
          client_secret: client.client_secret,
          username,
          password: pw,
        },
      });
    for (let i = 0; i < 10; i++) await login(users.blocked, 'wrong', '198.51.100.2');
    const outcomes = [
      ['unknown user (decoy)', (i) => login(`nobody-${i}@example.com`, 'wrong')],
      ['argon2id user, wrong password', () => login(users.argon2, 'wrong')],
      [`bcrypt cost ${BCRYPT_MAX_COST} user, wrong password`, () => login(users.imported, 'wrong')],
      ['blocked pair (429)', () => login(users.blocked, password, '198.51.100.2')],
    ];
    for (const [label, run] of outcomes) {
      await run(99);
      const times = await timeEach(15, run);
      (results[label] ??= []).push(`${ms(median(times))} / ${ms(Math.max(...times))}`);
    }
    await app.close();
    await deps.close();
    await storage.close();
  }
  for (const [label, cells] of Object.entries(results)) {
    console.log(`    ${label.padEnd(34)} ${cells.map((c) => c.padStart(20)).join('   ')}`);
  }
}

const QUERIES = [
  ['exact email', 'email:"user54321@example.com"'],
  ['email prefix', 'email:user5432*'],
  ['email domain', 'email.domain:acme.com'],
  ['name word', 'name:number777'],
  ['logins range', 'logins_count:[10 TO 20]'],
  ['last_login range', 'last_login:[2024-02-01 TO 2024-02-02]'],
  ['metadata', 'user_metadata.plan:"gold" AND app_metadata.tier:3'],
  ['connection', 'identities.connection:"partners" AND blocked:true'],
  ['boolean mix', '(email:user1* OR email:user2*) AND NOT email_verified:true'],
];

async function searchLatency(url, label) {
  const schema = url.startsWith('postgres') ? `bench_${Date.now()}` : undefined;
  const storage = await createStorage(url, schema ? { schema } : {});
  await migrateToLatest(storage);
  const config = Object.freeze({
    port: 0,
    host: '127.0.0.1',
    issuer: ISSUER,
    databaseUrl: url,
    redisUrl: undefined,
    secret: 'x'.repeat(40),
    bootstrapClientId: 'bench',
    bootstrapClientSecret: 'bench-secret-0123456789',
    logLevel: 'silent',
    trustProxy: false,
    server: DEFAULT_SERVER_SETTINGS,
  });
  const deps = createDeps(config, storage);
  await bootstrapTenant(
    {
      tenantId: 'default',
      issuer: ISSUER,
      bootstrapClientId: 'bench',
      bootstrapClientSecret: 'bench-secret-0123456789',
    },
    deps,
  );
  const t0 = performance.now();
  await seedUsers(storage, USERS);
  const seedSeconds = (performance.now() - t0) / 1000;
  // What the periodic PRAGMA optimize / autovacuum gives a long-running tenant: fresh planner statistics.
  await sql`analyze`.execute(storage.db);
  const app = await buildApp(deps);
  const tokenRes = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    payload: {
      grant_type: 'client_credentials',
      client_id: 'bench',
      client_secret: 'bench-secret-0123456789',
      audience: `${ISSUER}api/v2/`,
    },
  });
  const token = tokenRes.json().access_token;
  console.log(
    `\n  ${label}: ${USERS} users seeded in ${seedSeconds.toFixed(1)} s; GET /api/v2/users?q=…&include_totals=true&per_page=50 (30 runs each)`,
  );
  for (const [name, q] of QUERIES) {
    const times = [];
    let total = 0;
    for (let i = 0; i < 30; i++) {
      const t = performance.now();
      const res = await app.inject({
        method: 'GET',
        url: `/api/v2/users?q=${encodeURIComponent(q)}&search_engine=v3&include_totals=true&per_page=50`,
        headers: { authorization: `Bearer ${token}` },
      });
      times.push(performance.now() - t);
      if (res.statusCode !== 200) throw new Error(`${q}: ${res.statusCode} ${res.body}`);
      total = res.json().total;
    }
    console.log(
      `    ${name.padEnd(18)} p50 ${ms(pct(times, 50))}  p99 ${ms(pct(times, 99))}  (${total} matches)`,
    );
  }
  await app.close();
  await deps.close();
  await storage.close();
  if (schema) await dropSchema(url, schema);
}

async function eventLoopUnderLogins() {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-bench-users-'));
  const port = 3950;
  const issuer = `http://127.0.0.1:${port}/`;
  const child = spawn(process.execPath, ['dist/bin/latchkey.js', 'start'], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      LATCHKEY_ISSUER: issuer,
      LATCHKEY_DATABASE_URL: `sqlite:${dir}/db.sqlite`,
      LATCHKEY_BOOTSTRAP_CLIENT_ID: 'boot',
      LATCHKEY_BOOTSTRAP_CLIENT_SECRET: 'boot-secret-0123456789',
      LATCHKEY_LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
  });
  try {
    for (let i = 0; i < 100; i++) {
      try {
        if ((await fetch(`${issuer}.well-known/openid-configuration`)).ok) break;
      } catch {
        /* starting */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const call = async (method, path, body, token) => {
      const res = await fetch(`${issuer}${path}`, {
        method,
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: body && JSON.stringify(body),
      });
      return res.json();
    };
    const mgmt = (
      await call('POST', 'oauth/token', {
        grant_type: 'client_credentials',
        client_id: 'boot',
        client_secret: 'boot-secret-0123456789',
        audience: `${issuer}api/v2/`,
      })
    ).access_token;
    const client = await call('POST', 'api/v2/clients', { name: 'bench', grant_types: ['password'] }, mgmt);
    await call(
      'POST',
      'api/v2/users',
      {
        connection: 'Username-Password-Authentication',
        email: 'bench@example.com',
        password: 'Quiet-Harbor-4821',
      },
      mgmt,
    );
    const cheap = async (seconds, withLogins) => {
      const until = performance.now() + seconds * 1000;
      const times = [];
      let logins = 0;
      // 20 logins per second on a fixed schedule, however long each one takes.
      const loginLoop = async () => {
        if (!withLogins) return;
        const inflight = [];
        for (let next = performance.now(); next < until; next += 50) {
          await new Promise((res) => setTimeout(res, Math.max(0, next - performance.now())));
          inflight.push(
            call('POST', 'oauth/token', {
              grant_type: 'password',
              username: 'bench@example.com',
              password: 'Quiet-Harbor-4821',
              client_id: client.client_id,
              client_secret: client.client_secret,
            }).then((r) => {
              if (r.access_token) logins += 1;
            }),
          );
        }
        await Promise.all(inflight);
      };
      const cheapLoop = async () => {
        while (performance.now() < until) {
          const t = performance.now();
          await fetch(`${issuer}.well-known/openid-configuration`);
          times.push(performance.now() - t);
          await new Promise((res) => setTimeout(res, 5));
        }
      };
      await Promise.all([loginLoop(), cheapLoop()]);
      return { p50: pct(times, 50), p99: pct(times, 99), loginsPerSecond: logins / seconds };
    };
    const idle = await cheap(5, false);
    const busy = await cheap(10, true);
    console.log('\n  event loop: GET /.well-known/openid-configuration latency');
    console.log(`    idle                       p50 ${ms(idle.p50)}  p99 ${ms(idle.p99)}`);
    console.log(
      `    with ${busy.loginsPerSecond.toFixed(1)} logins/s        p50 ${ms(busy.p50)}  p99 ${ms(busy.p99)}`,
    );
  } finally {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log('Latchkey users bench');
const cost = await argon2Cost();
console.log(`  argon2id hash (m=46 MiB, t=2, p=1): p50 ${ms(cost.p50)}  p99 ${ms(cost.p99)}`);
await passwordCheckCost();
await signInTiming();
if ('sign-in-only' in args) process.exit(0);
const dir = mkdtempSync(join(tmpdir(), 'latchkey-search-'));
await searchLatency(`sqlite:${join(dir, 'search.sqlite')}`, 'SQLite');
rmSync(dir, { recursive: true, force: true });
if (args.postgres) await searchLatency(args.postgres, 'PostgreSQL');
await eventLoopUnderLogins();
