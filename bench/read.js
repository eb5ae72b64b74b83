// An authenticated Management read against bare node:http servers doing the same essential work, side by side
// in one run: (a) bare: verify the bearer token with jose against the tenant's JWKS, take the row from memory,
// send JSON; (b) the same remembering verified tokens until they expire; (c) Latchkey serving
// GET /api/v2/resource-servers/{id}. Each server is its own process and reports its CPU time (user + system),
// because the load generator shares the machine's cores.
// Usage: npm run bench:read [-- --seconds 10 --rounds 3 --profile <dir>]
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  bareReadServer,
  cannon,
  cpuMicros,
  fetchJson,
  managementToken,
  median,
  parseArgs,
  reportCpu,
  spawnServer,
  spread,
  startLatchkey,
  stopServers,
} from './lib.js';

const args = parseArgs(process.argv);
const SCRIPT = fileURLToPath(import.meta.url);
const SECONDS = Number(args.seconds ?? 10);
const ROUNDS = Number(args.rounds ?? 3);
const CONNECTIONS = 32;
const READ_SCOPE = 'read:resource_servers';

// ---- child processes ----

async function setUp(issuer) {
  // The bootstrap client's token holds every Management scope, as an operator's or SDK's usually does.
  const token = await managementToken(issuer);
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
    connections: CONNECTIONS,
    url: `http://127.0.0.1:${server.port}${path}`,
    headers: { authorization: `Bearer ${token}` },
    duration: seconds,
  });
  const cpu = (await cpuMicros(server)) - before;
  const ok = r['2xx'];
  if (r.non2xx > 0 || r.errors > 0) console.warn(`  ${server.kind}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rate: ok / (r.duration || seconds), p99: r.latency.p99, cpuPerRequest: cpu / Math.max(1, ok) };
}

async function main() {
  const base = 4100 + Math.floor(Math.random() * 800);
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-read-'));
  const profile = args.profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${args.profile}`];
  const latchkey = spawnServer(SCRIPT, 'latchkey', base, ['--dir', dir], profile);
  const bare = spawnServer(SCRIPT, 'bare', base + 1);
  const cached = spawnServer(SCRIPT, 'cached', base + 2);
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
    await stopServers(servers);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (args.child !== undefined) {
  reportCpu();
  const port = Number(args.port);
  if (args.child === 'latchkey') {
    await startLatchkey(port, args.dir);
    process.send({ up: true });
  } else {
    process.once('message', ({ issuer, audience, jwks, row }) => {
      const prefix = '/api/v2/resource-servers/';
      void bareReadServer({
        port,
        issuer,
        audience,
        jwks,
        scope: READ_SCOPE,
        cached: args.child === 'cached',
        answer: (url) =>
          url.startsWith(prefix) && decodeURIComponent(url.slice(prefix.length)) === row.id ? row : undefined,
      });
    });
  }
} else {
  await main();
}
