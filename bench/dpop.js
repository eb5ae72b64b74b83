// A DPoP-protected read against the same read with a bearer token, in the same run on the same server:
// GET /me/v1/authentication-methods on Latchkey (rate limit raised) with (a) a Bearer token, the floor, and
// (b) a DPoP-bound token of the same user and scopes with a fresh proof per request (RFC 9449 §7: proof
// checked for typ, alg, htm, htu, iat, ath and the key in cnf.jkt; its jti used up in the one-time store,
// Redis when --redis is given, else the SQLite database). The proofs are signed by the load generator with jose
// before each round, so their cost is left out of (b) and reported on its own line. The server is its own
// process and reports its CPU time, because the load generator shares the machine's cores.
// Usage: npm run bench:dpop [-- --seconds 10 --rounds 3 --redis redis://127.0.0.1:6379 --profile <dir>]
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT } from 'jose';
import {
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
const SCOPES = ['openid', 'read:me:authentication_methods'];
const PASSWORD = 'Bench-pass-word-123';
const REALM_GRANT = 'http://auth0.com/oauth/grant-type/password-realm';
const PATH = '/me/v1/authentication-methods';
/** Proofs older than this are refused (DPOP_IAT_WINDOW_SECONDS): a round must start well within it. */
const IAT_WINDOW_SECONDS = 60;

// ---- the client's DPoP key and proofs, as a client library would make them ----

async function clientKey() {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  const proof = (htm, htu, claims = {}) =>
    new SignJWT({ jti: randomUUID(), htm, htu, iat: Math.floor(Date.now() / 1000), ...claims })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
      .sign(privateKey);
  return { proof };
}

/** `n` fresh proofs for GET `url` with `token`, and the load generator's CPU per proof (µs). */
async function proofPool(key, url, token, n) {
  const ath = createHash('sha256').update(token).digest('base64url');
  const before = process.cpuUsage();
  const t0 = performance.now();
  const pool = [];
  for (let i = 0; i < n; i++) pool.push(await key.proof('GET', url, { ath }));
  const cpu = process.cpuUsage(before);
  return { pool, cpuPerProof: (cpu.user + cpu.system) / n, seconds: (performance.now() - t0) / 1000 };
}

// ---- the parent ----

/** The My Account API, an application that may get tokens for it, one user; a Bearer and a DPoP-bound token. */
async function setUp(issuer, key) {
  const token = await managementToken(issuer);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const post = (path, body) =>
    fetchJson(`${issuer}api/v2/${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  const audience = `${issuer}me/`;
  await post('resource-servers', { name: 'Auth0 My Account API', identifier: audience });
  const client = await post('clients', {
    name: 'Bench App',
    app_type: 'regular_web',
    grant_types: [REALM_GRANT],
    token_endpoint_auth_method: 'client_secret_post',
  });
  await post('client-grants', {
    client_id: client.client_id,
    audience,
    scope: SCOPES.slice(1),
    subject_type: 'user',
  });
  const [connection] = await fetchJson(`${issuer}api/v2/connections?strategy=auth0`, { headers });
  await fetchJson(`${issuer}api/v2/connections/${connection.id}`, {
    method: 'PATCH',
    headers,
    body: JSON.stringify({ enabled_clients: [...(connection.enabled_clients ?? []), client.client_id] }),
  });
  const email = 'reader@example.com';
  await post('users', { connection: connection.name, email, password: PASSWORD });
  const tokenFor = async (dpop) =>
    fetchJson(`${issuer}oauth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(dpop ? { dpop: await key.proof('POST', `${issuer}oauth/token`) } : {}),
      },
      body: new URLSearchParams({
        grant_type: REALM_GRANT,
        realm: connection.name,
        client_id: client.client_id,
        client_secret: client.client_secret,
        username: email,
        password: PASSWORD,
        audience,
        scope: SCOPES.join(' '),
      }),
    });
  const bearer = await tokenFor(false);
  const bound = await tokenFor(true);
  if (bearer.token_type !== 'Bearer' || bound.token_type !== 'DPoP') {
    throw new Error(`token types: ${bearer.token_type}, ${bound.token_type}`);
  }
  return { bearer: bearer.access_token, dpop: bound.access_token };
}

function outcome(server, r, cpu, seconds) {
  const ok = r['2xx'];
  if (r.non2xx > 0 || r.errors > 0) console.warn(`  ${server.kind}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rate: ok / (r.duration || seconds), p99: r.latency.p99, cpuPerRequest: cpu / Math.max(1, ok) };
}

async function driveBearer(server, token, seconds) {
  const before = await cpuMicros(server);
  const r = await cannon({
    connections: CONNECTIONS,
    url: `http://127.0.0.1:${server.port}${PATH}`,
    headers: { authorization: `Bearer ${token}` },
    duration: seconds,
  });
  return outcome(server, r, (await cpuMicros(server)) - before, seconds);
}

/**
 * `seconds` of requests, each with the next proof of the pool (sized for the Bearer rate, so it lasts): a run
 * bounded by time, not by the pool, so no proof outlives the iat window.
 */
async function driveDpop(server, token, proofs, seconds) {
  let next = 0;
  let refused;
  const before = await cpuMicros(server);
  const r = await cannon({
    connections: CONNECTIONS,
    url: `http://127.0.0.1:${server.port}${PATH}`,
    duration: seconds,
    requests: [
      {
        method: 'GET',
        path: PATH,
        setupRequest: (req) => ({
          ...req,
          // Past the pool's end (never at the Bearer rate), a request goes without a proof and is counted refused.
          headers: { ...req.headers, authorization: `DPoP ${token}`, dpop: proofs[next++] ?? '' },
        }),
        onResponse: (status, body) => {
          if (status !== 200 && refused === undefined) refused = `${status} ${body}`;
        },
      },
    ],
  });
  if (refused !== undefined) console.warn(`  first refusal: ${refused.slice(0, 300)}`);
  return outcome(server, r, (await cpuMicros(server)) - before, seconds);
}

/**
 * The library's own cost of the essential extra work: jose verifying each proof's signature with the key
 * imported once (as Latchkey keeps it), in this process, one after another (µs of CPU per proof).
 */
async function joseVerifyCost(proofs) {
  const key = await importJWK(decodeProtectedHeader(proofs[0]).jwk, 'ES256');
  const before = process.cpuUsage();
  for (const proof of proofs) await jwtVerify(proof, key, { typ: 'dpop+jwt' });
  const used = process.cpuUsage(before);
  return (used.user + used.system) / proofs.length;
}

async function main() {
  const base = 4100 + Math.floor(Math.random() * 800);
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-dpop-'));
  const profile = args.profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${args.profile}`];
  const extra = ['--dir', dir, ...(args.redis === undefined ? [] : ['--redis', args.redis])];
  const latchkey = spawnServer(SCRIPT, 'latchkey', base, extra, profile);
  const servers = [latchkey];
  try {
    await latchkey.up;
    const issuer = `http://127.0.0.1:${base}/`;
    const key = await clientKey();
    const tokens = await setUp(issuer, key);
    const url = `${issuer}me/v1/authentication-methods`;
    const check = await fetch(url, {
      headers: {
        authorization: `DPoP ${tokens.dpop}`,
        dpop: (await proofPool(key, url, tokens.dpop, 1)).pool[0],
      },
    });
    if (check.status !== 200) throw new Error(`DPoP read: ${check.status} ${await check.text()}`);

    // Warm-up (JIT, caches). The DPoP rate sizes the proof pools: proofs signed for the Bearer rate would
    // take longer to sign than their iat window lasts.
    await driveBearer(latchkey, tokens.bearer, 2);
    const warmPool = (await proofPool(key, url, tokens.dpop, 20_000)).pool;
    const verifyCost = await joseVerifyCost(warmPool.slice(0, 2000));
    const warm = await driveDpop(latchkey, tokens.dpop, warmPool, 2);
    let expected = warm.rate;
    const results = { bearer: [], dpop: [] };
    const signing = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const b = await driveBearer(latchkey, tokens.bearer, SECONDS);
      results.bearer.push(b);
      const made = await proofPool(key, url, tokens.dpop, Math.ceil(expected * SECONDS * 1.5));
      signing.push(made.cpuPerProof);
      if (made.seconds > IAT_WINDOW_SECONDS / 2) console.warn(`  signing took ${made.seconds.toFixed(0)} s`);
      const d = await driveDpop(latchkey, tokens.dpop, made.pool, SECONDS);
      results.dpop.push(d);
      expected = Math.max(expected, d.rate);
      console.log(
        `round ${round}: bearer ${b.rate.toFixed(0)}/s p99 ${b.p99} ms ${b.cpuPerRequest.toFixed(0)} µs CPU | dpop ${d.rate.toFixed(0)}/s p99 ${d.p99} ms ${d.cpuPerRequest.toFixed(0)} µs CPU | dpop/bearer ${(d.rate / b.rate).toFixed(2)}x, CPU ${(d.cpuPerRequest / b.cpuPerRequest).toFixed(2)}x`,
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
      `\nGET ${PATH} on Latchkey (${availableParallelism()} cores, ${CONNECTIONS} connections, ${SECONDS}s x ${ROUNDS} rounds, medians and spread; load generator on the same machine; jti store: ${args.redis === undefined ? 'SQLite' : 'Redis'})`,
    );
    console.log(row('Bearer token (the floor)', results.bearer));
    console.log(row('DPoP token + a fresh proof per request', results.dpop));
    console.log(
      `  DPoP / Bearer: throughput ${(m('dpop', 'rate') / m('bearer', 'rate')).toFixed(2)}x (goal >= 0.8), p99 ${(m('dpop', 'p99') / m('bearer', 'p99')).toFixed(2)}x, server CPU per request ${(m('dpop', 'cpuPerRequest') / m('bearer', 'cpuPerRequest')).toFixed(2)}x`,
    );
    const floor = m('bearer', 'cpuPerRequest') + verifyCost;
    console.log(
      `  jose's own verification of a proof (ES256, key imported once, this process): ${verifyCost.toFixed(0)} µs CPU; ` +
        `Bearer read + that = ${floor.toFixed(0)} µs, the CPU floor of a DPoP read; Latchkey's DPoP read ${(m('dpop', 'cpuPerRequest') / floor).toFixed(2)}x it`,
    );
    console.log(
      `  Proof signing in the load generator (jose, ES256), not in the figures above: ${median(signing).toFixed(0)} µs CPU per proof`,
    );
  } finally {
    await stopServers(servers);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (args.child !== undefined) {
  reportCpu();
  await startLatchkey(
    Number(args.port),
    args.dir,
    {},
    {
      LATCHKEY_MY_ACCOUNT_RATE_LIMIT: '9999999',
      ...(args.redis === undefined ? {} : { LATCHKEY_REDIS_URL: args.redis }),
    },
  );
  process.send({ up: true });
} else {
  await main();
}
