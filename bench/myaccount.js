// The My Account API against floors measured in the same run:
// (a) GET /me/v1/authentication-methods with a real `me` token (the user holds two passkeys enrolled through
//     the API) under a raised rate limit, against the bare read floor of bench/read.js: node:http + jose
//     verifying the same token (verified tokens cached) and answering the same JSON from memory. Each server is
//     its own process and reports its CPU time, because the load generator shares the machine's cores.
// (b) A passkey enrolment's verification: POST /me/v1/authentication-methods/passkey%7Cnew/verify end to end
//     (each after its own start, only the verify timed) against @simplewebauthn/server's verifyRegistrationResponse
//     of equivalent responses, run inside the Latchkey process so both sides share its warm JIT and its core;
//     and against a bare node:http server whose only work is that library call on the same responses, sent by
//     the same client one after another: the floor of the verification as an HTTP request on this machine.
// (c) The same verification under load (32 connections, each body used once; JIT warm, requests overlapping), with
//     server CPU per verify from process accounting, against the bare verify server and against a bare server doing
//     the same essential work: the challenge taken from SQLite, the library's verification, the credential inserted.
// Passkeys come from a tiny inline authenticator (ES256, attestation 'none'): what a platform authenticator sends.
// Usage: npm run bench:myaccount [-- --seconds 10 --rounds 3 --verifies 200 --profile <dir> --only verify]
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, URL } from 'node:url';
import { verifyRegistrationResponse } from '@simplewebauthn/server';
import { isoCBOR } from '@simplewebauthn/server/helpers';
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
const VERIFIES = Number(args.verifies ?? 200);
const LOADED_VERIFIES = Number(args['loaded-verifies'] ?? 6000);
const CONNECTIONS = 32;
const READ_SCOPE = 'read:me:authentication_methods';
const SCOPES = ['openid', READ_SCOPE, 'create:me:authentication_methods'];
const PASSWORD = 'Bench-pass-word-123';
const REALM_GRANT = 'http://auth0.com/oauth/grant-type/password-realm';
const PATH = '/me/v1/authentication-methods';

// ---- a tiny authenticator: ES256 key, attestation 'none', UV and backup flags set ----

const sha256 = (data) => createHash('sha256').update(data).digest();
const b64u = (bytes) => Buffer.from(bytes).toString('base64url');

function register(options, origin) {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const cose = isoCBOR.encode(
    new Map([
      [1, 2], // kty EC2
      [3, -7], // alg ES256
      [-1, 1], // crv P-256
      [-2, Buffer.from(jwk.x, 'base64url')],
      [-3, Buffer.from(jwk.y, 'base64url')],
    ]),
  );
  const credentialId = randomBytes(32);
  const idLength = Buffer.alloc(2);
  idLength.writeUInt16BE(credentialId.length);
  const authData = Buffer.concat([
    sha256(options.rp.id),
    Buffer.of(0x01 | 0x04 | 0x08 | 0x10 | 0x40), // UP, UV, BE, BS, AT
    Buffer.alloc(4), // counter 0
    Buffer.alloc(16), // aaguid zeros
    idLength,
    credentialId,
    cose,
  ]);
  const attestationObject = isoCBOR.encode(
    new Map([
      ['fmt', 'none'],
      ['attStmt', new Map()],
      ['authData', authData],
    ]),
  );
  const clientDataJSON = JSON.stringify({ type: 'webauthn.create', challenge: options.challenge, origin });
  return {
    id: b64u(credentialId),
    rawId: b64u(credentialId),
    type: 'public-key',
    response: {
      clientDataJSON: b64u(clientDataJSON),
      attestationObject: b64u(attestationObject),
      transports: ['internal', 'hybrid'],
    },
    clientExtensionResults: {},
    authenticatorAttachment: 'platform',
  };
}

// ---- child processes ----

/** In the Latchkey child: @simplewebauthn/server's own verification of the given responses, timed one by one. */
async function libraryVerify({ cases, origin, rpID }) {
  const times = [];
  const before = process.cpuUsage();
  for (const c of cases) {
    const t0 = performance.now();
    const result = await verifyRegistrationResponse({
      response: c.response,
      expectedChallenge: c.challenge,
      expectedOrigin: origin,
      expectedRPID: rpID,
      expectedType: 'webauthn.create',
      requireUserVerification: true,
      supportedAlgorithmIDs: [-8, -7, -257],
    });
    times.push(performance.now() - t0);
    if (!result.verified) throw new Error('library verification failed');
  }
  const cpu = process.cpuUsage(before);
  process.send({ library: { times, cpuPerVerify: (cpu.user + cpu.system) / cases.length } });
}

/** A bare node:http server: JSON `{challenge, response}` in, the library's verification, 201 JSON out. */
async function bareVerifyServer(port, origin, rpID) {
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const { challenge, response } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const result = await verifyRegistrationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: origin,
        expectedRPID: rpID,
        expectedType: 'webauthn.create',
        requireUserVerification: true,
        supportedAlgorithmIDs: [-8, -7, -257],
      });
      res.writeHead(result.verified ? 201 : 400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: result.registrationInfo?.credential.id, type: 'passkey' }));
    });
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  process.send({ up: true });
}

/**
 * The same essential work as Latchkey's enrolment, bare: node:http, a SQLite file in WAL mode with synchronous
 * NORMAL (Latchkey's settings) holding the passkeys and one-time values tables with Latchkey's keys and indexes
 * (no foreign key to a users table), `POST /start` storing a challenge under a random auth_session, and `POST
 * /verify` taking it (DELETE … RETURNING), running the library's verification and inserting the credential.
 */
async function bareStoreVerifyServer(port, origin, rpID, dir) {
  const { createServer } = await import('node:http');
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(join(dir, 'bare-store.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`
    create table if not exists one_time_values (tenant_id text not null, key text not null, value text not null,
      expires_at integer not null, primary key (tenant_id, key));
    create table if not exists passkeys (tenant_id text not null, id text not null, user_id text not null,
      credential_id text not null, public_key text not null, counter bigint not null, transports text not null,
      device_type text not null, backed_up integer not null, aaguid text not null, user_handle text not null,
      name text, user_agent text, created_at text not null, last_used_at text, primary key (tenant_id, id));
    create unique index if not exists passkeys_tenant_credential on passkeys (tenant_id, credential_id);
    create index if not exists passkeys_tenant_user on passkeys (tenant_id, user_id);`);
  const put = db.prepare(
    'insert into one_time_values (tenant_id, key, value, expires_at) values (?, ?, ?, ?)',
  );
  const take = db.prepare(
    'delete from one_time_values where tenant_id = ? and key = ? returning value, expires_at',
  );
  const insert = db.prepare(`insert into passkeys (tenant_id, id, user_id, credential_id, public_key, counter,
    transports, device_type, backed_up, aaguid, user_handle, name, user_agent, created_at, last_used_at)
    values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, null, ?, ?, null)`);
  const answer = (res, status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      if (req.url === '/start') {
        const authSession = randomBytes(32).toString('base64url');
        const challenge = randomBytes(32).toString('base64url');
        put.run('t', authSession, JSON.stringify({ challenge }), Math.floor(Date.now() / 1000) + 300);
        return answer(res, 202, { auth_session: authSession, challenge });
      }
      const { auth_session: authSession, response } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const row = take.get('t', authSession);
      if (row === undefined) return answer(res, 400, { error: 'invalid auth_session' });
      const result = await verifyRegistrationResponse({
        response,
        expectedChallenge: JSON.parse(row.value).challenge,
        expectedOrigin: origin,
        expectedRPID: rpID,
        expectedType: 'webauthn.create',
        requireUserVerification: true,
        supportedAlgorithmIDs: [-8, -7, -257],
      });
      if (!result.verified) return answer(res, 400, { error: 'not verified' });
      const info = result.registrationInfo;
      const id = `passkey|dev_${randomBytes(15).toString('base64url')}`;
      insert.run(
        't',
        id,
        'auth0|bench',
        info.credential.id,
        Buffer.from(info.credential.publicKey).toString('base64url'),
        info.credential.counter,
        JSON.stringify(info.credential.transports ?? []),
        info.credentialDeviceType,
        info.credentialBackedUp ? 1 : 0,
        info.aaguid,
        'handle',
        req.headers['user-agent'] ?? null,
        new Date().toISOString(),
      );
      answer(res, 201, { id, type: 'passkey', key_id: info.credential.id });
    });
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  process.send({ up: true });
}

// ---- the parent ----

/** An application that may get `me` tokens for its users, and one user per part, made over HTTP. */
async function setUp(issuer) {
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
  const meToken = async (email) => {
    await post('users', { connection: connection.name, email, password: PASSWORD });
    const tokens = await fetchJson(`${issuer}oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
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
    return tokens.access_token;
  };
  const jwks = await fetchJson(`${issuer}.well-known/jwks.json`);
  return {
    audience,
    jwks,
    reader: await meToken('reader@example.com'),
    enroller: await meToken('enroller@example.com'),
  };
}

const meHeaders = (token) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });

/** POST /authentication-methods: the creation options, auth_session and Location of one enrolment. */
async function start(issuer, token) {
  const res = await fetch(`${issuer}me/v1/authentication-methods`, {
    method: 'POST',
    headers: meHeaders(token),
    body: JSON.stringify({ type: 'passkey', use_exclude_credentials: false }),
  });
  if (res.status !== 202) throw new Error(`start: ${res.status} ${await res.text()}`);
  return { ...(await res.json()), location: res.headers.get('location') };
}

async function verify(started, response, token) {
  const res = await fetch(`${started.location}/verify`, {
    method: 'POST',
    headers: meHeaders(token),
    body: JSON.stringify({ auth_session: started.auth_session, authn_response: response }),
  });
  if (res.status !== 201) throw new Error(`verify: ${res.status} ${await res.text()}`);
  await res.arrayBuffer();
}

async function drive(server, token, seconds) {
  const before = await cpuMicros(server);
  const r = await cannon({
    connections: CONNECTIONS,
    url: `http://127.0.0.1:${server.port}${PATH}`,
    headers: { authorization: `Bearer ${token}` },
    duration: seconds,
  });
  const cpu = (await cpuMicros(server)) - before;
  const ok = r['2xx'];
  if (r.non2xx > 0 || r.errors > 0) console.warn(`  ${server.kind}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rate: ok / (r.duration || seconds), p99: r.latency.p99, cpuPerRequest: cpu / Math.max(1, ok) };
}

/** Part (b): VERIFIES enrolments through the API, then the library on equivalent responses in the same process. */
async function verifyCost(latchkey, bare, issuer, token) {
  const origin = new URL(issuer).origin;
  const rpID = new URL(issuer).hostname;
  const bareUrl = `http://127.0.0.1:${bare.port}/verify`;
  const run = async (n) => {
    const started = [];
    for (let i = 0; i < n; i++) started.push(await start(issuer, token));
    const responses = started.map((s) => register(s.authn_params_public_key, origin));
    const times = [];
    const before = await cpuMicros(latchkey);
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await verify(started[i], responses[i], token);
      times.push(performance.now() - t0);
    }
    const cpu = (await cpuMicros(latchkey)) - before;
    return { times, cpuPerVerify: cpu / n };
  };
  const library = async (n) => {
    // Equivalent responses: the same authenticator answering options with fresh challenges of the same size.
    const cases = Array.from({ length: n }, () => {
      const challenge = randomBytes(32).toString('base64url');
      return { challenge, response: register({ challenge, rp: { id: rpID } }, origin) };
    });
    const answer = new Promise((resolve) => {
      const onMessage = (m) => {
        if (!m.library) return;
        latchkey.child.off('message', onMessage);
        resolve(m.library);
      };
      latchkey.child.on('message', onMessage);
    });
    latchkey.child.send({ libraryVerify: { cases, origin, rpID } });
    return answer;
  };
  const bareRun = async (n) => {
    const cases = Array.from({ length: n }, () => {
      const challenge = randomBytes(32).toString('base64url');
      return { challenge, response: register({ challenge, rp: { id: rpID } }, origin) };
    });
    const times = [];
    const before = await cpuMicros(bare);
    for (const c of cases) {
      const t0 = performance.now();
      const res = await fetch(bareUrl, {
        method: 'POST',
        headers: meHeaders(token),
        body: JSON.stringify(c),
      });
      if (res.status !== 201) throw new Error(`bare verify: ${res.status}`);
      await res.arrayBuffer();
      times.push(performance.now() - t0);
    }
    return { times, cpuPerVerify: ((await cpuMicros(bare)) - before) / n };
  };
  await run(20); // warm-up
  await library(20);
  await bareRun(20);
  const api = await run(VERIFIES);
  const lib = await library(VERIFIES);
  const floor = await bareRun(VERIFIES);
  return { api, lib, floor };
}

/**
 * Part (c): verifications under load, as a busy server sees them (JIT warm, requests overlapping): `n` enrolments
 * started beforehand, their verifies sent by CONNECTIONS connections, each body used once (autocannon's `amount`
 * bounds the run by the pool); the bare verify server gets as many equivalent responses the same way. CPU per
 * verify from each server's process accounting.
 */
async function loadedVerifyCost(latchkey, bare, store, issuer, token, n) {
  const origin = new URL(issuer).origin;
  const rpID = new URL(issuer).hostname;
  const started = [];
  for (let i = 0; i < n; i += 16) {
    const batch = Math.min(16, n - i);
    started.push(...(await Promise.all(Array.from({ length: batch }, () => start(issuer, token)))));
  }
  const bodies = started.map((s) =>
    JSON.stringify({
      auth_session: s.auth_session,
      authn_response: register(s.authn_params_public_key, origin),
    }),
  );
  const bareBodies = Array.from({ length: n }, () => {
    const challenge = randomBytes(32).toString('base64url');
    return JSON.stringify({ challenge, response: register({ challenge, rp: { id: rpID } }, origin) });
  });
  const drivePool = async (server, path, pool, headers) => {
    let next = 0;
    let refused;
    const before = await cpuMicros(server);
    const t0 = performance.now();
    const r = await cannon({
      connections: CONNECTIONS,
      url: `http://127.0.0.1:${server.port}${path}`,
      amount: pool.length,
      requests: [
        {
          method: 'POST',
          path,
          headers,
          setupRequest: (req) => ({ ...req, body: pool[next++] }),
          onResponse: (status, body) => {
            if (status !== 201 && refused === undefined) refused = `${status} ${body}`;
          },
        },
      ],
    });
    const cpu = (await cpuMicros(server)) - before;
    if (refused !== undefined) throw new Error(`${server.kind} refused a verify: ${refused.slice(0, 300)}`);
    const seconds = (performance.now() - t0) / 1000;
    return { rate: r['2xx'] / seconds, p50: r.latency.p50, cpuPerVerify: cpu / Math.max(1, r['2xx']) };
  };
  const verifyPath = `${new URL(started[0].location).pathname}/verify`;
  const api = await drivePool(latchkey, verifyPath, bodies, meHeaders(token));
  const floor = await drivePool(bare, '/verify', bareBodies, meHeaders(token));
  const storeStarted = [];
  for (let i = 0; i < n; i += 16) {
    const batch = Math.min(16, n - i);
    storeStarted.push(
      ...(await Promise.all(
        Array.from({ length: batch }, () =>
          fetchJson(`http://127.0.0.1:${store.port}/start`, { method: 'POST', headers: meHeaders(token) }),
        ),
      )),
    );
  }
  const storeBodies = storeStarted.map((s) =>
    JSON.stringify({
      auth_session: s.auth_session,
      response: register({ challenge: s.challenge, rp: { id: rpID } }, origin),
    }),
  );
  const same = await drivePool(store, '/verify', storeBodies, meHeaders(token));
  return { api, floor, same };
}

async function main() {
  const base = 4100 + Math.floor(Math.random() * 800);
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-myaccount-'));
  const profile = args.profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${args.profile}`];
  const latchkey = spawnServer(SCRIPT, 'latchkey', base, ['--dir', dir], profile);
  const cached = spawnServer(SCRIPT, 'cached', base + 1);
  const servers = [cached, latchkey];
  try {
    await latchkey.up;
    const issuer = `http://127.0.0.1:${base}/`;
    const setup = await setUp(issuer);

    // The reader holds two passkeys, enrolled through the API.
    const origin = new URL(issuer).origin;
    for (let i = 0; i < 2; i++) {
      const started = await start(issuer, setup.reader);
      await verify(started, register(started.authn_params_public_key, origin), setup.reader);
    }
    const body = await fetchJson(`${issuer}me/v1/authentication-methods`, {
      headers: meHeaders(setup.reader),
    });
    const passkeys = body.authentication_methods.filter((m) => m.type === 'passkey').length;
    if (passkeys !== 2) throw new Error(`expected 2 passkeys, got ${JSON.stringify(body)}`);
    cached.child.send({ issuer, audience: setup.audience, jwks: setup.jwks, body });
    await cached.up;

    // (a), unless only (b) is asked for (to profile it)
    const readRounds = args.only === 'verify' ? 0 : ROUNDS;
    if (readRounds > 0) for (const s of servers) await drive(s, setup.reader, 2); // warm-up (JIT, caches)
    const results = { cached: [], latchkey: [] };
    for (let round = 1; round <= readRounds; round++) {
      const line = [];
      for (const s of servers) {
        const r = await drive(s, setup.reader, SECONDS);
        results[s.kind].push(r);
        line.push(`${s.kind} ${r.rate.toFixed(0)}/s p99 ${r.p99} ms ${r.cpuPerRequest.toFixed(0)} µs CPU`);
      }
      const [c, l] = [results.cached, results.latchkey].map((x) => x[x.length - 1]);
      console.log(
        `round ${round}: ${line.join(' | ')} | latchkey/bare ${(l.rate / c.rate).toFixed(2)}x, CPU ${(l.cpuPerRequest / c.cpuPerRequest).toFixed(2)}x`,
      );
    }

    // (b)
    const bare = spawnServer(SCRIPT, 'bare-verify', base + 2, [
      '--origin',
      origin,
      '--rp',
      new URL(issuer).hostname,
    ]);
    const store = spawnServer(SCRIPT, 'bare-store-verify', base + 3, [
      '--origin',
      origin,
      '--rp',
      new URL(issuer).hostname,
      '--dir',
      dir,
    ]);
    servers.push(bare, store);
    await bare.up;
    await store.up;
    const { api, lib, floor } = await verifyCost(latchkey, bare, issuer, setup.enroller);
    const loaded = [];
    await loadedVerifyCost(latchkey, bare, store, issuer, setup.enroller, 2000); // warm-up
    for (let round = 1; round <= ROUNDS; round++) {
      const r = await loadedVerifyCost(latchkey, bare, store, issuer, setup.enroller, LOADED_VERIFIES);
      loaded.push(r);
      console.log(
        `verify under load round ${round}: Latchkey ${r.api.rate.toFixed(0)}/s ${r.api.cpuPerVerify.toFixed(0)} µs CPU | bare ${r.floor.rate.toFixed(0)}/s ${r.floor.cpuPerVerify.toFixed(0)} µs CPU | bare + SQLite ${r.same.rate.toFixed(0)}/s ${r.same.cpuPerVerify.toFixed(0)} µs CPU | CPU ${(r.api.cpuPerVerify / r.floor.cpuPerVerify).toFixed(2)}x, ${(r.api.cpuPerVerify / r.same.cpuPerVerify).toFixed(2)}x`,
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
    if (readRounds > 0) printReads();
    function printReads() {
      console.log(
        `\nGET /me/v1/authentication-methods, a user with ${passkeys} passkeys (${availableParallelism()} cores, ${CONNECTIONS} connections, ${SECONDS}s x ${ROUNDS} rounds, medians and spread; load generator on the same machine)`,
      );
      console.log(row('bare node:http + jose, verified tokens cached', results.cached));
      console.log(row('Latchkey (rate limit raised)', results.latchkey));
      console.log(
        `  Latchkey / bare read floor: throughput ${(m('latchkey', 'rate') / m('cached', 'rate')).toFixed(2)}x (goal >= 0.8), p99 ${(m('latchkey', 'p99') / m('cached', 'p99')).toFixed(2)}x, CPU per request ${(m('latchkey', 'cpuPerRequest') / m('cached', 'cpuPerRequest')).toFixed(2)}x`,
      );
    }

    const p50 = (xs) => median(xs);
    console.log(
      `\nPasskey enrolment verification, ES256 attestation 'none', ${VERIFIES} sequential verifies`,
    );
    console.log(
      `  Latchkey POST .../passkey%7Cnew/verify end to end: p50 ${p50(api.times).toFixed(2)} ms wall (HTTP round trip included), ${api.cpuPerVerify.toFixed(0)} µs server CPU per verify`,
    );
    console.log(
      `  @simplewebauthn/server verifyRegistrationResponse in the Latchkey process: p50 ${p50(lib.times).toFixed(2)} ms, ${lib.cpuPerVerify.toFixed(0)} µs CPU per verify`,
    );
    console.log(
      `  bare node:http server doing only the library's verification, same client: p50 ${p50(floor.times).toFixed(2)} ms wall, ${floor.cpuPerVerify.toFixed(0)} µs server CPU per verify`,
    );
    console.log(
      `  Latchkey / library alone: CPU per verify ${(api.cpuPerVerify / lib.cpuPerVerify).toFixed(2)}x, wall p50 ${(p50(api.times) / p50(lib.times)).toFixed(2)}x`,
    );
    console.log(
      `  Latchkey / bare verify server: CPU per verify ${(api.cpuPerVerify / floor.cpuPerVerify).toFixed(2)}x (goal <= 1.5), wall p50 ${(p50(api.times) / p50(floor.times)).toFixed(2)}x`,
    );
    const lm = (side, field) => median(loaded.map((r) => r[side][field]));
    console.log(
      `\nPasskey enrolment verification under load (${CONNECTIONS} connections, ${LOADED_VERIFIES} verifies x ${ROUNDS} rounds, medians)`,
    );
    console.log(
      `  Latchkey: ${lm('api', 'rate').toFixed(0)} verifies/s, p50 ${lm('api', 'p50')} ms, ${lm('api', 'cpuPerVerify').toFixed(0)} µs server CPU per verify (${spread(loaded.map((r) => r.api.cpuPerVerify))})`,
    );
    console.log(
      `  bare verify server: ${lm('floor', 'rate').toFixed(0)} verifies/s, p50 ${lm('floor', 'p50')} ms, ${lm('floor', 'cpuPerVerify').toFixed(0)} µs server CPU per verify (${spread(loaded.map((r) => r.floor.cpuPerVerify))})`,
    );
    console.log(
      `  bare verify server + SQLite (same essential work: take the challenge, verify, store the credential): ${lm('same', 'rate').toFixed(0)} verifies/s, p50 ${lm('same', 'p50')} ms, ${lm('same', 'cpuPerVerify').toFixed(0)} µs server CPU per verify (${spread(loaded.map((r) => r.same.cpuPerVerify))})`,
    );
    console.log(
      `  Latchkey / bare + SQLite: CPU per verify ${(lm('api', 'cpuPerVerify') / lm('same', 'cpuPerVerify')).toFixed(2)}x`,
    );
    console.log(
      `  Latchkey / bare verify server: CPU per verify ${(lm('api', 'cpuPerVerify') / lm('floor', 'cpuPerVerify')).toFixed(2)}x (goal <= 1.5)`,
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
    process.on('message', (m) => {
      if (m.libraryVerify) void libraryVerify(m.libraryVerify);
    });
    await startLatchkey(port, args.dir, {}, { LATCHKEY_MY_ACCOUNT_RATE_LIMIT: '9999999' });
    process.send({ up: true });
  } else if (args.child === 'bare-verify') {
    await bareVerifyServer(port, args.origin, args.rp);
  } else if (args.child === 'bare-store-verify') {
    await bareStoreVerifyServer(port, args.origin, args.rp, args.dir);
  } else {
    process.once('message', ({ issuer, audience, jwks, body }) => {
      void bareReadServer({
        port,
        issuer,
        audience,
        jwks,
        scope: READ_SCOPE,
        cached: true,
        answer: (url) => (url === PATH ? body : undefined),
      });
    });
  }
} else {
  await main();
}
