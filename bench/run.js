// Token endpoint and Management API throughput, printed as ratios against the raw RS256 signing rate of one
// core measured in the same run. Usage: npm run bench [-- --seconds 10 --tokens 100000]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import autocannon from 'autocannon';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const SECONDS = Number(args.seconds ?? 10);
const TOKENS = Number(args.tokens ?? 100_000);
const CONNECTIONS = 32;
const PORT = 3900 + Math.floor(Math.random() * 90);
const ISSUER = `http://127.0.0.1:${PORT}/`;
const BOOT_ID = 'bench-bootstrap';
const BOOT_SECRET = 'bench-bootstrap-secret-0123456789';

async function rawSigningRate(seconds) {
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

function startServer(dir) {
  const child = spawn(process.execPath, ['dist/bin/latchkey.js', 'start'], {
    env: {
      ...process.env,
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

function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

const fmt = (n) => n.toFixed(0).padStart(7);

const dir = mkdtempSync(join(tmpdir(), 'latchkey-bench-'));
const server = startServer(dir);
try {
  await waitUp();
  const { mgmt, api, client } = await setUp();
  const tokenBody = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: client.client_id,
    client_secret: client.client_secret,
    audience: api.identifier,
  }).toString();
  const tokenRequest = {
    url: `${ISSUER}oauth/token`,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: tokenBody,
  };
  await cannon({ ...tokenRequest, duration: 2 }); // warm-up

  const raw = await rawSigningRate(Math.min(SECONDS, 5));
  const cc = await cannon({ ...tokenRequest, duration: SECONDS });
  const ccRate = cc.requests.average;
  const non2xx = cc.non2xx;

  const rs = await cannon({
    url: `${ISSUER}api/v2/resource-servers/${api.id}`,
    headers: { authorization: `Bearer ${mgmt}` },
    duration: SECONDS,
  });

  const already = cc.requests.total + 2 * 0;
  const remaining = Math.max(0, TOKENS - already);
  if (remaining > 0) await cannon({ ...tokenRequest, amount: remaining });
  const rss = rssMb(server.pid);

  const cores = availableParallelism();
  console.log(`\nLatchkey bench (${cores} cores, ${CONNECTIONS} connections, ${SECONDS}s per run, SQLite)`);
  console.log(`  raw RS256 signing, 1 core (jose)        ${fmt(raw)} /s   baseline`);
  console.log(
    `  POST /oauth/token client_credentials    ${fmt(ccRate)} /s   ratio ${(ccRate / raw).toFixed(2)} of 1 core  (goal >= 0.85; p99 ${cc.latency.p99} ms, non-2xx ${non2xx})`,
  );
  console.log(
    `  GET /api/v2/resource-servers/{id}       ${fmt(rs.requests.average)} /s   ratio ${(rs.requests.average / raw).toFixed(2)} of signing  (p99 ${rs.latency.p99} ms, non-2xx ${rs.non2xx})`,
  );
  console.log(
    `  server RSS after ${Math.max(TOKENS, already)} tokens          ${fmt(rss)} MB  (goal < 200 MB)`,
  );
} finally {
  server.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
