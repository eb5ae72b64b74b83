// Availability under hostile input (issue 9): at 100,000 users on SQLite, a worst-case user-search corpus is fired
// at a running server while another client measures how long the event loop is held (latency of the discovery
// document, and monitorEventLoopDelay inside the server); then 3,000 client-credentials requests with unique
// 60 KB audiences, with the server's memory before and after.
// The same for tenant logs: 100,000 log events and a worst-case log-search corpus, and what pruning a day of
// expired events costs the event loop.
// Usage: npm run bench:availability [-- --users 100000 --dist ./dist --db /path/reused.sqlite --skip search|logs|memory]
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { sql } from 'kysely';
import { createStorage } from '../dist/storage/db.js';
import { migrateToLatest } from '../dist/storage/migrate.js';
import { createDeps } from '../dist/server/deps.js';
import { bootstrapTenant } from '../dist/bootstrap/service.js';
import { DEFAULT_SERVER_SETTINGS } from '../dist/config/schema.js';
import { seedUsers } from './seed-users.js';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const USERS = Number(args.users ?? 100_000);
// The server build to measure: ./dist by default; point --dist at an older build for a before/after.
const DIST = resolve(args.dist ?? 'dist');
const PORT = 3960;
const ISSUER = `http://127.0.0.1:${PORT}/`;
const CLIENT_ID = 'bench-avail';
const CLIENT_SECRET = 'bench-avail-secret-0123456789';
const SECRET = 'bench-availability-secret-0123456789abcdef';

const ms = (x) => `${x.toFixed(0).padStart(6)} ms`;
const words = (n, word) => Array.from({ length: n }, (_, i) => word(i)).join(' ');
const letters = (i, len) =>
  Array.from({ length: len }, (_, k) => String.fromCharCode(97 + ((i * 7 + k * 13) % 26))).join('');

const FIELDS = [
  'email:user1@example.com',
  'name:number1',
  'username:user1',
  'given_name:user',
  'family_name:number1',
  'nickname:user1',
  'user_id:"auth0|1"',
  'phone_number:"+15550000"',
  'last_ip:"10.0.0.1"',
  'picture:"https://x"',
  'email_verified:true',
  'phone_verified:false',
  'blocked:false',
  'email.domain:example.org',
  'identities.connection:"partners"',
  'identities.provider:"auth0"',
  'identities.user_id:"1"',
  'logins_count:[10 TO 20]',
  'created_at:[2024-01-01 TO 2024-01-02]',
  'last_login:2024-03',
];

// Each of these is within the search limits, unless its name says otherwise.
const CORPUS = [
  ['review: 500 words, 1,499 chars (over)', words(500, (i) => letters(i, 2))],
  ['50 free-text words', words(50, (i) => letters(i, 2))],
  ['50 free-text words of 30 letters', words(50, (i) => letters(i, 30))],
  [
    '10 trailing wildcards + 40 words',
    `${words(10, (i) => `${letters(i, 3)}*`)} ${words(40, (i) => letters(i, 4))}`,
  ],
  [
    '2 leading + 8 trailing wildcards + 40 words',
    `*${letters(1, 3)} *${letters(2, 3)} ${words(8, (i) => `${letters(i, 3)}*`)} ${words(40, (i) => letters(i, 4))}`,
  ],
  ['every field (20 fields)', FIELDS.join(' OR ')],
  ['every field AND-ed, negated', `NOT (${FIELDS.join(' AND ')})`],
  [
    '50 metadata paths, 5 deep',
    words(50, (i) => `user_metadata.p${i % 19}.b.c.d.e:"${letters(i, 6)}"`).replaceAll(' ', ' OR '),
  ],
  ['50 _exists_ on metadata', words(50, (i) => `_exists_:app_metadata.k${i % 19}`)],
  [
    'deep AND/OR/NOT, 10 levels',
    Array.from({ length: 3 }, (_, i) => `(${letters(i, 4)} OR NOT (name:${letters(i + 9, 5)} AND `).join('') +
      'nickname:zzz' +
      '))'.repeat(3),
  ],
  ['10 long phrases (~190 chars each)', words(10, (i) => `"${letters(i, 185)}"`).replaceAll('" "', '" OR "')],
  ['50 date ranges', words(50, (i) => `last_login:[2024-01-${String((i % 28) + 1).padStart(2, '0')} TO *]`)],
  ['50 identity terms (a subquery each)', words(50, (i) => `identities.connection:"c${i}"`)],
  ['50 email domains', words(50, (i) => `email.domain:${letters(i, 8)}.com`)],
];

const LOG_FIELDS = [
  'type:fp',
  'user_id:"auth0|1"',
  'user_name:user1@example.com',
  'client_id:abc',
  'client_name:app',
  'connection:partners',
  'ip:"10.0.0.1"',
  'audience:"https://api"',
  'description:wrong',
  'hostname:x',
  'user_agent:curl',
  'scope:read',
  'strategy:auth0',
  'log_id:900',
  'date:[2026-01-01 TO *]',
];

const LOG_CORPUS = [
  ['50 free-text words', words(50, (i) => letters(i, 2))],
  [
    '10 trailing wildcards + 40 words',
    `${words(10, (i) => `${letters(i, 3)}*`)} ${words(40, (i) => letters(i, 4))}`,
  ],
  [
    '2 leading + 8 trailing wildcards on fields',
    `user_name:*${letters(1, 3)} description:*${letters(2, 3)} ${words(8, (i) => `user_agent:${letters(i, 3)}*`)}`,
  ],
  ['every field', LOG_FIELDS.join(' OR ')],
  ['every field AND-ed, negated', `NOT (${LOG_FIELDS.join(' AND ')})`],
  ['50 date ranges', words(50, (i) => `date:[2026-01-${String((i % 28) + 1).padStart(2, '0')} TO *]`)],
  ['50 user ids', words(50, (i) => `user_id:"auth0|${i}"`)],
];

/** 100,000 recent log events of the kinds a busy tenant has (recent: none is due for pruning). */
async function seedLogs(storage, count) {
  const types = ['s', 'sepft', 'fp', 'fu', 'seccft', 'feccft', 'sapi', 'sertft'];
  const now = Date.now();
  for (let start = 0; start < count; start += 2000) {
    const rows = [];
    for (let i = start; i < Math.min(count, start + 2000); i++) {
      const at = now - (count - i) * 1000;
      rows.push({
        tenant_id: 'default',
        log_id: `900${new Date(at).toISOString().replace(/\D/g, '').slice(0, 17)}${String(i).padStart(36, '0')}`,
        at,
        type: types[i % types.length],
        description: i % 3 === 0 ? 'Wrong email or password.' : '',
        client_id: `client${i % 50}`,
        client_name: `App ${i % 50}`,
        connection: 'Username-Password-Authentication',
        user_id: `auth0|${(i % 100_000).toString(16).padStart(24, '0')}`,
        user_name: `user${i % 100_000}@example.com`,
        audience: 'https://api.example.com/',
        scope: 'read:a',
        ip: `10.0.${i % 256}.${(i >> 8) % 256}`,
        user_agent: 'Mozilla/5.0 (X11; Linux x86_64) bench',
        hostname: 'id.example.com',
        details: JSON.stringify({ error: 'invalid_grant' }),
      });
    }
    await storage.db.insertInto('logs').values(rows).execute();
  }
}

async function seed(path) {
  const storage = await createStorage(`sqlite:${path}`);
  await migrateToLatest(storage);
  const deps = createDeps(config(`sqlite:${path}`), storage);
  await bootstrapTenant(
    {
      tenantId: 'default',
      issuer: ISSUER,
      bootstrapClientId: CLIENT_ID,
      bootstrapClientSecret: CLIENT_SECRET,
    },
    deps,
  );
  const { n } = await storage.db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  if (Number(n) === 0) {
    const t0 = performance.now();
    await seedUsers(storage, USERS);
    await sql`analyze`.execute(storage.db);
    console.log(`  seeded ${USERS} users in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const logs = await storage.db
    .selectFrom('logs')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  if (Number(logs.n) < USERS) {
    const t0 = performance.now();
    await seedLogs(storage, USERS);
    await sql`analyze`.execute(storage.db);
    console.log(`  seeded ${USERS} log events in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  await deps.close();
  await storage.close();
}

function config(databaseUrl) {
  return Object.freeze({
    port: PORT,
    host: '127.0.0.1',
    issuer: ISSUER,
    databaseUrl,
    redisUrl: undefined,
    secret: SECRET,
    bootstrapClientId: CLIENT_ID,
    bootstrapClientSecret: CLIENT_SECRET,
    logLevel: 'silent',
    trustProxy: false,
    server: DEFAULT_SERVER_SETTINGS,
  });
}

async function startServer(path) {
  const child = fork(join(DIST, 'bin/latchkey.js'), ['start'], {
    execArgv: ['--expose-gc', '--import', pathToFileURL(resolve('bench/loop-probe.js')).href],
    env: {
      ...process.env,
      PORT: String(PORT),
      HOST: '127.0.0.1',
      LATCHKEY_ISSUER: ISSUER,
      LATCHKEY_DATABASE_URL: `sqlite:${path}`,
      LATCHKEY_SECRET: SECRET,
      LATCHKEY_BOOTSTRAP_CLIENT_ID: CLIENT_ID,
      LATCHKEY_BOOTSTRAP_CLIENT_SECRET: CLIENT_SECRET,
      LATCHKEY_LOG_LEVEL: 'fatal',
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const ask = (message) =>
    new Promise((res) => {
      child.once('message', res);
      child.send(message);
    });
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${ISSUER}.well-known/openid-configuration`)).ok) return { child, ask };
    } catch {
      /* starting */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('server did not start');
}

async function token() {
  const res = await fetch(`${ISSUER}oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      grant_type: 'client_credentials',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      audience: `${ISSUER}api/v2/`,
    }),
  });
  return (await res.json()).access_token;
}

/** Runs `work` while a second client fetches the discovery document back to back; the slowest answer. */
async function whileProbing(work) {
  let done = false;
  let slowest = 0;
  const probe = (async () => {
    while (!done) {
      const t = performance.now();
      await (await fetch(`${ISSUER}.well-known/openid-configuration`)).arrayBuffer();
      slowest = Math.max(slowest, performance.now() - t);
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  try {
    return { result: await work(), slowestProbe: () => slowest };
  } finally {
    done = true;
    await probe;
  }
}

// The delay monitor records a hold when its next timer fires: give it that turn before asking.
async function report(server) {
  await new Promise((r) => setTimeout(r, 50));
  return server.ask('report');
}

async function searchCorpus(server) {
  const bearer = await token();
  console.log(
    `\n  worst-case searches (GET /api/v2/users?q=…&include_totals=true): status, time, slowest discovery answer meanwhile, longest event-loop hold in the server`,
  );
  let worst = 0;
  for (const [name, q] of CORPUS) {
    await server.ask('reset');
    const t = performance.now();
    const { result: status, slowestProbe } = await whileProbing(async () => {
      const res = await fetch(
        `${ISSUER}api/v2/users?q=${encodeURIComponent(q)}&search_engine=v3&include_totals=true&per_page=50`,
        { headers: { authorization: `Bearer ${bearer}` } },
      );
      await res.arrayBuffer();
      return res.status;
    });
    const took = performance.now() - t;
    const { maxHoldMs } = await report(server);
    worst = Math.max(worst, maxHoldMs);
    console.log(
      `    ${name.padEnd(44)} ${String(q.length).padStart(5)} chars  ${status}  ${ms(took)}  probe ${ms(slowestProbe())}  hold ${ms(maxHoldMs)}`,
    );
  }
  {
    await server.ask('reset');
    const t = performance.now();
    const { result: status, slowestProbe } = await whileProbing(async () => {
      const res = await fetch(
        `${ISSUER}api/v2/users?sort=logins_count:-1&page=19&per_page=50&include_totals=true`,
        {
          headers: { authorization: `Bearer ${bearer}` },
        },
      );
      await res.arrayBuffer();
      return res.status;
    });
    const { maxHoldMs } = await report(server);
    worst = Math.max(worst, maxHoldMs);
    console.log(
      `    ${'no q, page 19 sorted by logins_count'.padEnd(44)} ${'0'.padStart(5)} chars  ${status}  ${ms(performance.now() - t)}  probe ${ms(slowestProbe())}  hold ${ms(maxHoldMs)}`,
    );
  }
  console.log(`    longest event-loop hold over the corpus: ${worst.toFixed(0)} ms (goal: 100 ms)`);
}

async function logCorpus(server) {
  const bearer = await token();
  console.log(
    `\n  worst-case log searches (GET /api/v2/logs?q=…&include_totals=true) at ${USERS} events: status, time, slowest discovery answer, longest hold`,
  );
  let worst = 0;
  const cases = [
    ...LOG_CORPUS.map(([name, q]) => [
      name,
      `q=${encodeURIComponent(q)}&include_totals=true&per_page=50`,
      q.length,
    ]),
    ['no q, page 19 sorted by user_name', 'sort=user_name:1&page=19&per_page=50&include_totals=true', 0],
    ['checkpoint: take 100 from the oldest', 'from=900&take=100', 0],
  ];
  for (const [name, query, length] of cases) {
    await server.ask('reset');
    const t = performance.now();
    const { result: status, slowestProbe } = await whileProbing(async () => {
      const res = await fetch(`${ISSUER}api/v2/logs?${query}`, {
        headers: { authorization: `Bearer ${bearer}` },
      });
      await res.arrayBuffer();
      return res.status;
    });
    const took = performance.now() - t;
    const { maxHoldMs } = await report(server);
    worst = Math.max(worst, maxHoldMs);
    console.log(
      `    ${name.padEnd(44)} ${String(length).padStart(5)} chars  ${status}  ${ms(took)}  probe ${ms(slowestProbe())}  hold ${ms(maxHoldMs)}`,
    );
  }
  console.log(`    longest event-loop hold over the log corpus: ${worst.toFixed(0)} ms (goal: 100 ms)`);
}

/** What one pruning round (up to 5,000 expired events) costs, on a copy of the database. */
async function pruneCost(path) {
  const storage = await createStorage(`sqlite:${path}`);
  const deps = createDeps(config(`sqlite:${path}`), storage);
  const t = performance.now();
  const deleted = await deps.store.logs.pruneBefore(Date.now());
  console.log(
    `\n  one pruning round (every 10 minutes at most): ${deleted} expired events deleted in ${(performance.now() - t).toFixed(0)} ms on the event loop`,
  );
  await deps.close();
  await storage.close();
}

async function audienceAttack(server) {
  const requests = 3000;
  const before = await server.ask('gc');
  const statuses = new Map();
  let largest = 0;
  let next = 0;
  const worker = async () => {
    while (next < requests) {
      const i = next++;
      const audience = `https://${i}.example/${'a'.repeat(60 * 1024 - 40)}`;
      const res = await fetch(`${ISSUER}oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          audience,
        }).toString(),
      });
      const body = await res.arrayBuffer();
      largest = Math.max(largest, body.byteLength);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
  };
  const t = performance.now();
  await Promise.all(Array.from({ length: 16 }, worker));
  const seconds = (performance.now() - t) / 1000;
  const right = await server.ask('report');
  await new Promise((r) => setTimeout(r, 2000));
  const after = await server.ask('gc');
  console.log(
    `\n  ${requests} client-credentials requests with unique 60 KB audiences (${seconds.toFixed(1)} s)`,
  );
  console.log(
    `    statuses ${[...statuses].map(([s, n]) => `${s}×${n}`).join(' ')}; largest answer ${largest} bytes`,
  );
  console.log(
    `    server RSS: ${before.rssMb.toFixed(0)} MB before, ${right.rssMb.toFixed(0)} MB right after, ${after.rssMb.toFixed(0)} MB after GC (heap ${before.heapMb.toFixed(0)} → ${after.heapMb.toFixed(0)} MB)`,
  );
}

console.log(`Latchkey availability bench (server build: ${DIST})`);
const dir = args.db ? undefined : mkdtempSync(join(tmpdir(), 'latchkey-avail-'));
const path = args.db ?? join(dir, 'avail.sqlite');
await seed(path);
const server = await startServer(path);
try {
  if (args.skip !== 'search') await searchCorpus(server);
  if (args.skip !== 'logs') await logCorpus(server);
  if (args.skip !== 'memory') await audienceAttack(server);
} finally {
  server.child.kill('SIGTERM');
  await new Promise((r) => server.child.once('exit', r));
}
if (args.skip !== 'logs') await pruneCost(path);
if (dir) rmSync(dir, { recursive: true, force: true });
