// What the server benches share: arguments, a Latchkey server in a child process (SQLite file, bootstrapped,
// listening), child processes that report their CPU time, autocannon, and the statistics printed.
import { fork } from 'node:child_process';
import { join } from 'node:path';
import autocannon from 'autocannon';

/** `--name value` pairs of the command line. */
export function parseArgs(argv) {
  return Object.fromEntries(
    argv
      .slice(2)
      .reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
  );
}

export const BOOT_ID = 'bench-bootstrap';
export const BOOT_SECRET = 'bench-bootstrap-secret-0123456789';

/** In a child: answers 'cpu' with process.cpuUsage() and exits on 'stop'. */
export function reportCpu() {
  process.on('message', (m) => {
    if (m === 'cpu') process.send({ cpu: process.cpuUsage() });
    if (m === 'stop') process.exit(0);
  });
}

/**
 * In a child: Latchkey on `port` over a SQLite file in `dir`, bootstrapped with the bench's client; `env` adds
 * settings (e.g. LATCHKEY_MY_ACCOUNT_RATE_LIMIT).
 */
export async function startLatchkey(port, dir, overrides = {}, env = {}) {
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
    LATCHKEY_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    ...env,
  });
  const storage = await createStorage(config.databaseUrl);
  await migrateToLatest(storage);
  // One client drives the whole run: lift the per-client Management limit out of the way.
  const deps = createDeps(config, storage, { managementRateLimit: 1e9, ...overrides });
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

/** Runs `script` again as a child `--child kind --port port`, resolved once it says it is up. */
export function spawnServer(script, kind, port, extra = [], execArgv = []) {
  const child = fork(script, ['--child', kind, '--port', String(port), ...extra], {
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

/** The child's CPU time so far (user + system, µs). */
export function cpuMicros(server) {
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

/** Stops the children: asks first, then kills what is left. */
export async function stopServers(servers) {
  for (const s of servers) {
    if (s.child.connected) s.child.send('stop');
  }
  await new Promise((r) => setTimeout(r, 500));
  for (const s of servers) s.child.kill('SIGKILL');
}

export function cannon(opts) {
  return new Promise((resolve, reject) => {
    autocannon({ pipelining: 1, ...opts }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

export async function fetchJson(url, init) {
  const res = await fetch(url, init);
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

export const spread = (xs, digits = 0) =>
  `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;

/** A Management API token of the bench's bootstrap client (every Management scope). */
export async function managementToken(issuer) {
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
  return token;
}

/**
 * In a child: the bare read floor. A node:http server that verifies the bearer token with jose against the
 * tenant's JWKS (remembering verified tokens until they expire when `cached`), checks `scope`, and answers
 * `answer(url)` as JSON (404 when it gives undefined).
 */
export async function bareReadServer({ port, issuer, audience, jwks, scope, cached, answer }) {
  const { createServer } = await import('node:http');
  const { createLocalJWKSet, jwtVerify } = await import('jose');
  const keys = createLocalJWKSet(jwks);
  const verified = new Map();
  const send = (res, status, body) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(body);
  };
  const verify = async (token) => {
    const hit = cached ? verified.get(token) : undefined;
    if (hit && hit.exp > Date.now() / 1000) return hit;
    const { payload } = await jwtVerify(token, keys, { issuer, audience, algorithms: ['RS256'] });
    if (cached) verified.set(token, payload);
    return payload;
  };
  const server = createServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    if (req.method !== 'GET' || !auth.startsWith('Bearer ')) {
      send(res, 404, '{"statusCode":404}');
      return;
    }
    verify(auth.slice(7)).then(
      (claims) => {
        if (
          !String(claims.scope ?? '')
            .split(' ')
            .includes(scope)
        )
          return send(res, 403, '{}');
        const found = answer(req.url);
        return found === undefined ? send(res, 404, '{}') : send(res, 200, JSON.stringify(found));
      },
      () => send(res, 401, '{"statusCode":401}'),
    );
  });
  server.listen(port, '127.0.0.1', () => process.send({ up: true }));
}
