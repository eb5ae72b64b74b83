// An authenticated Management read against bare node:http servers doing the same essential work, side by side
// in one run: (a) bare: verify the bearer token with jose against the tenant's JWKS, take the row from memory,
// send JSON; (b) the same remembering verified tokens until they expire; (c) Latchkey serving
// GET /api/v2/resource-servers/{id}. Each server is its own process and reports its CPU time (user + system),
// because the load generator shares the machine's cores.
// Usage: npm run bench:read [-- --seconds 10 --rounds 3 --profile <dir>]
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLocalJWKSet, jwtVerify } from 'jose';
import autocannon from 'autocannon';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const SECONDS = Number(args.seconds ?? 10);
const ROUNDS = Number(args.rounds ?? 3);
const CONNECTIONS = 32;
const BOOT_ID = 'bench-bootstrap';
const BOOT_SECRET = 'bench-bootstrap-secret-0123456789';
const READ_SCOPE = 'read:resource_servers';

// ---- child processes: each server answers 'cpu' with process.cpuUsage() and exits on 'stop' ----

function reportCpu() {
  process.on('message', (m) => {
    if (m === 'cpu') process.send({ cpu: process.cpuUsage() });
    if (m === 'stop') process.exit(0);
  });
}

async function latchkeyChild(port, dir) {
  const { loadConfig } = await import('../dist/config/load.js');
  const { createStorage } = await import('../dist/storage/db.js');
  const { migrateToLatest } = await import('../dist/storage/migrate.js');
  const { createDeps } = await import('../dist/server/deps.js');
  const { bootstrapTenant } = await import('../dist/bootstrap/service.js');
  const { buildApp, LOG_REDACT } = await import('../dist/app.js');
  const config = loadConfig({
    PORT: String(port),
    HOST: '127.0.0.1',
    LATCHKEY_ISSUER: `http://127.0.0.1:${port}/`,
    LATCHKEY_DATABASE_URL: `sqlite:${join(dir, 'bench.sqlite')}`,
    LATCHKEY_BOOTSTRAP_CLIENT_ID: BOOT_ID,
    LATCHKEY_BOOTSTRAP_CLIENT_SECRET: BOOT_SECRET,
    LATCHKEY_LOG_LEVEL: 'warn',
  });
  const storage = await createStorage(config.databaseUrl);
  await migrateToLatest(storage);
  // One client drives the whole run: lift the per-client Management limit out of the way.
  const deps = createDeps(config, storage, { managementRateLimit: 1e9 });
  await bootstrapTenant(
    {
      tenantId: deps.tenantId,
      issuer: config.issuer,
      bootstrapClientId: BOOT_ID,
      bootstrapClientSecret: BOOT_SECRET,
    },
    deps,
  );
  const app = await buildApp(deps, { logger: { level: config.logLevel, redact: LOG_REDACT } });
  await app.listen({ port, host: '127.0.0.1' });
}

function bareChild(port, cached, setup) {
  const { issuer, audience, jwks, row } = setup;
  const keys = createLocalJWKSet(jwks);
  const rows = new Map([[row.id, row]]);
  const verified = new Map();
  const send = (res, status, body) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(body);
  };
  const verify = async (token) => {
    if (cached) {
      const hit = verified.get(token);
      if (hit && hit.exp > Date.now() / 1000) return hit;
    }
    const { payload } = await jwtVerify(token, keys, { issuer, audience, algorithms: ['RS256'] });
    if (cached) verified.set(token, payload);
    return payload;
  };
  const server = createServer((req, res) => {
    const prefix = '/api/v2/resource-servers/';
    const auth = req.headers.authorization ?? '';
    if (req.method !== 'GET' || !req.url.startsWith(prefix) || !auth.startsWith('Bearer ')) {
      send(res, 404, '{"statusCode":404}');
      return;
    }
    verify(auth.slice(7)).then(
      (claims) => {
        if (
          !String(claims.scope ?? '')
            .split(' ')
            .includes(READ_SCOPE)
        )
          return send(res, 403, '{}');
        const found = rows.get(decodeURIComponent(req.url.slice(prefix.length)));
        return found === undefined ? send(res, 404, '{}') : send(res, 200, JSON.stringify(found));
      },
      () => send(res, 401, '{"statusCode":401}'),
    );
  });
  server.listen(port, '127.0.0.1', () => process.send({ up: true }));
}

// ---- the driver ----

function spawnServer(kind, port, extra = [], execArgv = []) {
  const child = fork(fileURLToPath(import.meta.url), ['--child', kind, '--port', String(port), ...extra], {
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const up = new Promise((resolve, reject) => {
    child.on('message', (m) => {
      if (m.up) resolve();
    });
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
  return { child, up, port, kind };
}

function cpuMicros(server) {
  return new Promise((resolve) => {
    const onMessage = (m) => {
      if (!m.cpu) return;
      server.child.off('message', onMessage);
      resolve(m.cpu.user + m.cpu.system);
    };
    server.child.on('message', onMessage);
    server.child.send('cpu');
  });
}

function cannon(opts) {
  return new Promise((resolve, reject) => {
    autocannon({ connections: CONNECTIONS, pipelining: 1, ...opts }, (err, result) =>
      err ? reject(err) : resolve(result),
    );
  });
}

async function fetchJson(url, init) {
  const res = await fetch(url, init);
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function setUp(issuer) {
  // The bootstrap client's token holds every Management scope, as an operator's or SDK's usually does.
  const { access_token: token } = await fetchJson(`${issuer}oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: BOOT_ID,
      client_secret: BOOT_SECRET,
      audience: `${issuer}api/v2/`,
    }),
  });
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const created = await fetchJson(`${issuer}api/v2/resource-servers`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      name: 'Bench API',
      identifier: 'https://bench.example.com/',
      scopes: [{ value: 'read:a' }, { value: 'write:b' }],
    }),
  });
  const row = await fetchJson(`${issuer}api/v2/resource-servers/${created.id}`, { headers });
  const jwks = await fetchJson(`${issuer}.well-known/jwks.json`);
  return { token, row, jwks, audience: `${issuer}api/v2/` };
}

async function drive(server, path, token, seconds) {
  const before = await cpuMicros(server);
  const r = await cannon({
    url: `http://127.0.0.1:${server.port}${path}`,
    headers: { authorization: `Bearer ${token}` },
    duration: seconds,
  });
  const cpu = (await cpuMicros(server)) - before;
  const ok = r['2xx'];
  if (r.non2xx > 0 || r.errors > 0) console.warn(`  ${server.kind}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rate: ok / (r.duration || seconds), p99: r.latency.p99, cpuPerRequest: cpu / Math.max(1, ok) };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const spread = (xs) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;

async function main() {
  const base = 4100 + Math.floor(Math.random() * 800);
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-read-'));
  const profile = args.profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${args.profile}`];
  const latchkey = spawnServer('latchkey', base, ['--dir', dir], profile);
  const bare = spawnServer('bare', base + 1);
  const cached = spawnServer('cached', base + 2);
  const servers = [bare, cached, latchkey];
  try {
    await latchkey.up;
    const issuer = `http://127.0.0.1:${base}/`;
    const setup = await setUp(issuer);
    for (const s of [bare, cached])
      s.child.send({ issuer, audience: setup.audience, jwks: setup.jwks, row: setup.row });
    await Promise.all([bare.up, cached.up]);
    const path = `/api/v2/resource-servers/${setup.row.id}`;
    for (const s of servers) await drive(s, path, setup.token, 2); // warm-up (JIT, caches)

    const results = { bare: [], cached: [], latchkey: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      const line = [];
      for (const s of servers) {
        const r = await drive(s, path, setup.token, SECONDS);
        results[s.kind].push(r);
        line.push(`${s.kind} ${r.rate.toFixed(0)}/s p99 ${r.p99} ms ${r.cpuPerRequest.toFixed(0)} µs CPU`);
      }
      const [b, c, l] = [results.bare, results.cached, results.latchkey].map((x) => x[x.length - 1]);
      console.log(
        `round ${round}: ${line.join(' | ')} | latchkey/cached ${(l.rate / c.rate).toFixed(2)}x, p99 ${(l.p99 / c.p99).toFixed(2)}x, CPU ${(l.cpuPerRequest / c.cpuPerRequest).toFixed(2)}x (bare/cached ${(b.rate / c.rate).toFixed(2)}x)`,
      );
    }

    const row = (label, rs) =>
      `  ${label.padEnd(44)} ${median(rs.map((r) => r.rate))
        .toFixed(0)
        .padStart(
          6,
        )} 2xx/s (${spread(rs.map((r) => r.rate))})  p99 ${String(median(rs.map((r) => r.p99))).padStart(3)} ms (${spread(rs.map((r) => r.p99))})  CPU ${median(
        rs.map((r) => r.cpuPerRequest),
      )
        .toFixed(0)
        .padStart(4)} µs/request (${spread(rs.map((r) => r.cpuPerRequest))})`;
    const m = (kind, field) => median(results[kind].map((r) => r[field]));
    console.log(
      `\nGET /api/v2/resource-servers/{id} with a bearer token (${availableParallelism()} cores, ${CONNECTIONS} connections, ${SECONDS}s x ${ROUNDS} rounds, medians and spread; load generator on the same machine)`,
    );
    console.log(row('bare node:http + jose', results.bare));
    console.log(row('bare node:http + jose, verified tokens cached', results.cached));
    console.log(row('Latchkey', results.latchkey));
    console.log(
      `  Latchkey / cached bare: throughput ${(m('latchkey', 'rate') / m('cached', 'rate')).toFixed(2)}x (goal >= 0.9), p99 ${(m('latchkey', 'p99') / m('cached', 'p99')).toFixed(2)}x (goal <= 2), CPU per request ${(m('latchkey', 'cpuPerRequest') / m('cached', 'cpuPerRequest')).toFixed(2)}x`,
    );
  } finally {
    for (const s of servers) {
      if (s.child.connected) s.child.send('stop');
    }
    await new Promise((r) => setTimeout(r, 500));
    for (const s of servers) s.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

if (args.child !== undefined) {
  reportCpu();
  const port = Number(args.port);
  if (args.child === 'latchkey') {
    await latchkeyChild(port, args.dir);
    process.send({ up: true });
  } else {
    process.once('message', (setup) => bareChild(port, args.child === 'cached', setup));
  }
} else {
  await main();
}
