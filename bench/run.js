// Token endpoint and Management API throughput, printed as ratios against the raw RS256 signing rate of one
// core measured in the same run, and the server's CPU time per issued token (user + system of the server
// process, all threads) against node:crypto's bare RS256 signature. Throughput is distorted when the load
// generator shares the cores; CPU per token is not. Usage: npm run bench [-- --seconds 10 --tokens 100000
// --rounds 3 --profile <dir>]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { SignJWT } from 'jose';
import autocannon from 'autocannon';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const SECONDS = Number(args.seconds ?? 10);
const TOKENS = Number(args.tokens ?? 100_000);
const ROUNDS = Number(args.rounds ?? 1);
const CONNECTIONS = 32;
const PORT = 3900 + Math.floor(Math.random() * 90);
const ISSUER = `http://127.0.0.1:${PORT}/`;
const BOOT_ID = 'bench-bootstrap';
const BOOT_SECRET = 'bench-bootstrap-secret-0123456789';

// The machine's raw single-core RS256 rate and CPU time per signature: OpenSSL through node:crypto,
// synchronous, one thread.
function rawSigning(seconds) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const input = Buffer.from('eyJhbGciOiJSUzI1NiJ9.' + 'x'.repeat(300));
  const until = Date.now() + seconds * 1000;
  let n = 0;
  const start = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  while (Date.now() < until) {
    nodeSign('sha256', input, privateKey);
    n += 1;
  }
  const used = process.cpuUsage(cpu);
  return {
    rate: n / (Number(process.hrtime.bigint() - start) / 1e9),
    cpuMicros: (used.user + used.system) / n,
  };
}

// jose one token at a time, for reference: WebCrypto hops to the thread pool per signature.
async function joseSequentialRate(seconds) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const payload = {
    iss: ISSUER,
    sub: 'x@clients',
    aud: 'https://bench.example.com/',
    scope: 'read:a write:b',
    gty: 'client-credentials',
    azp: 'x',
  };
  const until = Date.now() + seconds * 1000;
  let n = 0;
  const start = process.hrtime.bigint();
  while (Date.now() < until) {
    await new SignJWT({ ...payload, iat: n, exp: n + 86400 })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: 'k' })
      .sign(privateKey);
    n += 1;
  }
  return n / (Number(process.hrtime.bigint() - start) / 1e9);
}

function startServer(dir, threads) {
  const profile = args.profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${args.profile}`];
  const child = spawn(process.execPath, [...profile, 'dist/bin/latchkey.js', 'start'], {
    env: {
      ...process.env,
      ...(threads !== undefined ? { UV_THREADPOOL_SIZE: String(threads) } : {}),
      PORT: String(PORT),
      HOST: '127.0.0.1',
      LATCHKEY_ISSUER: ISSUER,
      LATCHKEY_DATABASE_URL: `sqlite:${join(dir, 'bench.sqlite')}`,
      LATCHKEY_BOOTSTRAP_CLIENT_ID: BOOT_ID,
      LATCHKEY_BOOTSTRAP_CLIENT_SECRET: BOOT_SECRET,
      LATCHKEY_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return child;
}

async function waitUp() {
  for (let i = 0; i < 200; i++) {
    try {
      const res = await fetch(`${ISSUER}.well-known/openid-configuration`);
      if (res.ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not start');
}

async function json(method, path, token, body) {
  const res = await fetch(`${ISSUER}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function setUp() {
  const tokenRes = await fetch(`${ISSUER}oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: BOOT_ID,
      client_secret: BOOT_SECRET,
      audience: `${ISSUER}api/v2/`,
    }),
  });
  const mgmt = (await tokenRes.json()).access_token;
  const api = await json('POST', 'api/v2/resource-servers', mgmt, {
    name: 'Bench API',
    identifier: 'https://bench.example.com/',
    scopes: [{ value: 'read:a' }, { value: 'write:b' }],
  });
  const client = await json('POST', 'api/v2/clients', mgmt, { name: 'bench', app_type: 'non_interactive' });
  await json('POST', 'api/v2/client-grants', mgmt, {
    client_id: client.client_id,
    audience: api.identifier,
    scope: ['read:a', 'write:b'],
  });
  return { mgmt, api, client };
}

function cannon(opts) {
  return new Promise((resolve, reject) => {
    autocannon({ connections: CONNECTIONS, pipelining: 1, ...opts }, (err, result) =>
      err ? reject(err) : resolve(result),
    );
  });
}

// Server CPU seconds (user + system, all threads) from /proc: how many cores the server really used.
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

const fmt = (n) => n.toFixed(0).padStart(7);

async function measure(threads) {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-bench-'));
  const server = startServer(dir, threads);
  try {
    await waitUp();
    const { mgmt, api, client } = await setUp();
    const tokenRequest = {
      url: `${ISSUER}oauth/token`,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: client.client_id,
        client_secret: client.client_secret,
        audience: api.identifier,
      }).toString(),
    };
    await cannon({ ...tokenRequest, duration: 2 }); // warm-up
    const cpuBefore = cpuSeconds(server.pid);
    const cc = await cannon({ ...tokenRequest, duration: SECONDS });
    const cpuUsed = cpuSeconds(server.pid) - cpuBefore;
    const serverCores = cpuUsed / (cc.duration || SECONDS);
    const cpuPerToken = (cpuUsed * 1e6) / Math.max(1, cc['2xx']);
    const rs = await cannon({
      url: `${ISSUER}api/v2/resource-servers/${api.id}`,
      headers: { authorization: `Bearer ${mgmt}` },
      duration: SECONDS,
    });
    let issued = cc.requests.total;
    if (issued < TOKENS) {
      await cannon({ ...tokenRequest, amount: TOKENS - issued });
      issued = TOKENS;
    }
    return { cc, rs, issued, serverCores, cpuPerToken, rss: rssMb(server.pid) };
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same-work floor: CPU per token of the bare jose server (bench/bare-token-server.js) under the same load. */
async function measureBare() {
  const port = PORT + 100;
  const child = spawn(process.execPath, ['bench/bare-token-server.js', String(port), ISSUER], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve) => child.stdout.once('data', resolve));
  try {
    const request = {
      url: `http://127.0.0.1:${port}/oauth/token`,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: 'bench-client',
        client_secret: 'bench-client-secret-0123456789',
        audience: 'https://bench.example.com/',
      }).toString(),
    };
    await cannon({ ...request, duration: 2 });
    const before = cpuSeconds(child.pid);
    const cc = await cannon({ ...request, duration: SECONDS });
    const used = cpuSeconds(child.pid) - before;
    if (cc.non2xx > 0) throw new Error(`bare token server answered ${cc.non2xx} errors`);
    return { rate: okRate(cc), cpuPerToken: (used * 1e6) / Math.max(1, cc['2xx']), p99: cc.latency.p99 };
  } finally {
    child.kill('SIGTERM');
  }
}

const cores = availableParallelism();
const okRate = (r) => (r.requests.total - r.non2xx) / (r.duration || SECONDS);
const rounds = [];
for (let round = 1; round <= ROUNDS; round++) {
  const raw = rawSigning(Math.min(SECONDS, 5));
  const jose = await joseSequentialRate(Math.min(SECONDS, 3));
  const bare = await measureBare();
  const pooled = await measure(undefined);
  const single = await measure(1);
  rounds.push({ raw, bare, pooled, single });
  report(round, raw, jose, bare, pooled, single);
}
if (ROUNDS > 1) {
  const spread = (xs) =>
    `median ${[...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)].toFixed(2)}, ${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
  console.log(`\nCPU per token ÷ bare RS256 signature over ${ROUNDS} rounds (goal <= 1.1):`);
  console.log(`  thread pool:  ${spread(rounds.map((r) => r.pooled.cpuPerToken / r.raw.cpuMicros))}`);
  console.log(`  one thread:   ${spread(rounds.map((r) => r.single.cpuPerToken / r.raw.cpuMicros))}`);
  console.log(
    `  bare jose server (same-work floor): ${spread(rounds.map((r) => r.bare.cpuPerToken / r.raw.cpuMicros))}`,
  );
  console.log(`\nCPU per token ÷ the bare jose server's, same run (thread pool):`);
  console.log(`  ${spread(rounds.map((r) => r.pooled.cpuPerToken / r.bare.cpuPerToken))}`);
}

function report(round, rawSigning, jose, bare, pooled, single) {
  const raw = rawSigning.rate;
  console.log(
    `\nLatchkey bench, round ${round} (${cores} cores, ${CONNECTIONS} connections, ${SECONDS}s per run, SQLite, load generator on the same machine)`,
  );
  console.log(
    `  raw RS256 signing, 1 core (node:crypto)        ${fmt(raw)} /s   baseline; ${rawSigning.cpuMicros.toFixed(0)} µs CPU per signature`,
  );
  console.log(`  jose, one token at a time (reference)          ${fmt(jose)} /s`);
  console.log(
    `  bare node:http + jose token server (floor)     ${fmt(bare.rate)} /s   p99 ${bare.p99} ms; CPU per token ${bare.cpuPerToken.toFixed(0)} µs = ${(bare.cpuPerToken / rawSigning.cpuMicros).toFixed(2)} x a bare signature`,
  );
  for (const [label, r, used] of [
    [`signing on libuv's thread pool (default size)`, pooled, cores],
    ['signing on one thread (UV_THREADPOOL_SIZE=1)', single, 1],
  ]) {
    const rate = okRate(r.cc);
    console.log(`  POST /oauth/token, ${label}`);
    console.log(
      `      ${fmt(rate)} /s   ${(rate / raw).toFixed(2)} x raw; ${(rate / (raw * used)).toFixed(2)} of raw x ${used} cores used (goal >= 0.85); p99 ${r.cc.latency.p99} ms; non-2xx ${r.cc.non2xx}`,
    );
    console.log(
      `      server used ${r.serverCores.toFixed(2)} cores (event loop + signing threads; the load generator shares the machine): ${(rate / (raw * r.serverCores)).toFixed(2)} of raw x cores the server used`,
    );
    console.log(
      `      CPU per token ${r.cpuPerToken.toFixed(0)} µs (server user + system ÷ tokens) = ${(r.cpuPerToken / rawSigning.cpuMicros).toFixed(2)} x a bare RS256 signature (goal <= 1.1), ${(r.cpuPerToken / bare.cpuPerToken).toFixed(2)} x the bare jose server`,
    );
    console.log(
      `  GET /api/v2/resource-servers/{id}: ${fmt(okRate(r.rs))} 2xx/s (p99 ${r.rs.latency.p99} ms; ${r.rs.non2xx} answered 429 by the per-client limit)`,
    );
    console.log(`  server RSS after ${r.issued} tokens: ${r.rss.toFixed(0)} MB (goal < 200 MB)`);
  }
}
