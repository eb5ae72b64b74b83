// User search at 100,000 users, argon2id cost, and event-loop health while logins run.
// Usage: npm run bench:users [-- --users 100000 --postgres postgres://…]
import { spawn } from 'node:child_process';
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
import { hashPassword } from '../dist/users/passwords.js';
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
        password: 'Bench-Pass-123',
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
              password: 'Bench-Pass-123',
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
const dir = mkdtempSync(join(tmpdir(), 'latchkey-search-'));
await searchLatency(`sqlite:${join(dir, 'search.sqlite')}`, 'SQLite');
rmSync(dir, { recursive: true, force: true });
if (args.postgres) await searchLatency(args.postgres, 'PostgreSQL');
await eventLoopUnderLogins();
