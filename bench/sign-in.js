// What the browser sign-in costs, against floors measured in the same run:
// (1) the hosted login page (GET /u/login of a live login transaction) against a bare Fastify route that renders
//     the same Eta view with the same data and security headers (goal: at most 2x its CPU per request);
// (2) a whole sign-in, one after another: GET /authorize, GET /u/login, POST /u/login, POST /oauth/token with the
//     code and PKCE verifier, against the password hash's own cost (argon2id verify of the same password with the
//     same parameters), p50 (goal: at most 5 ms more); each sign-in is followed by one check of the hash alone, so
//     both p50s sample the same stretch of a noisy machine. The server runs without the sign-in timing floor (a timer
//     of PASSWORD_CHECK_FLOOR_MS that costs no CPU and would hide the work); CPU per sign-in from process
//     accounting is reported beside the wall time because the load generator shares the machine's cores.
// Usage: npm run bench:sign-in [-- --seconds 10 --rounds 3 --sign-ins 200 --profile <dir> --sign-in-only 1
//   --step-profile <dir>]
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, URL } from 'node:url';
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
const SIGN_INS = Number(args['sign-ins'] ?? 200);
// Skips the login-page throughput part, e.g. to profile the sign-ins alone.
const SIGN_IN_ONLY = args['sign-in-only'] !== undefined;
// Where the server's main thread spends each step: profiled only while the sign-ins run (see stepProfile).
const STEP_PROFILE = args['step-profile'];
const CONNECTIONS = 16;
const CALLBACK = 'https://app.example.com/callback';
const PASSWORD = 'Tall-ship-sails-42';

// ---- child processes ----

/** Fastify with one route: the login view rendered as sendPage renders it, with the data the real page passes. */
async function bareChild(port, data) {
  const { default: Fastify } = await import('fastify');
  const { sendPage } = await import('../dist/pages/render.js');
  const app = Fastify({ logger: false });
  app.get('/u/login', async (_req, reply) =>
    sendPage(reply, 'login', data, { formAction: new URL(CALLBACK).origin }),
  );
  await app.listen({ port, host: '127.0.0.1' });
  process.send({ up: true });
}

/**
 * A bare sign-in server doing a sign-in's essential work, the floor of part (2): Fastify with the form parser, the
 * same login view, better-sqlite3 (WAL, synchronous NORMAL, statements prepared once), argon2id at the production
 * cost and jose's RS256 signatures. GET /authorize checks client and callback and stores the transaction; GET
 * /u/login reads it and renders the page; POST /u/login reads it, checks the CSRF token against its cookie, reads
 * the user, verifies the password, then in one transaction takes the transaction and stores the session, the code,
 * the user's last login and a log row; POST /oauth/token checks the client secret, takes the code, checks redirect
 * URI and PKCE and signs an access token and an ID token. No policy, consent, throttling, branding or catalogue.
 */
async function floorChild(port, data) {
  const { default: Fastify } = await import('fastify');
  const { default: formbody } = await import('@fastify/formbody');
  const { default: Database } = await import('better-sqlite3');
  const { SignJWT, generateKeyPair } = await import('jose');
  const { sendPage } = await import('../dist/pages/render.js');
  const { hashPassword, checkPassword } = await import('../dist/users/passwords.js');
  const { timingSafeEqual } = await import('node:crypto');
  const issuer = `http://127.0.0.1:${port}/`;
  const db = new Database(join(args.dir, 'floor.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`create table one_time (key text primary key, value text not null, expires_at integer not null);
    create table users (user_id text primary key, email text not null unique, password_hash text not null,
      logins_count integer not null default 0, last_login text, last_ip text);
    create table sessions (id text primary key, user_id text not null, created_at integer not null,
      ip text, user_agent text);
    create table logs (log_id text primary key, date text not null, type text not null, user_id text,
      client_id text, ip text, details text);`);
  const put = db.prepare('insert into one_time (key, value, expires_at) values (?, ?, ?)');
  const peek = db.prepare('select value from one_time where key = ? and expires_at > ?');
  const take = db.prepare('delete from one_time where key = ? returning value, expires_at');
  const userByEmail = db.prepare('select * from users where email = ?');
  const insertSession = db.prepare(
    'insert into sessions (id, user_id, created_at, ip, user_agent) values (?, ?, ?, ?, ?)',
  );
  const lastLogin = db.prepare(
    'update users set logins_count = logins_count + 1, last_login = ?, last_ip = ? where user_id = ?',
  );
  const log = db.prepare(
    'insert into logs (log_id, date, type, user_id, client_id, ip, details) values (?, ?, ?, ?, ?, ?, ?)',
  );
  db.prepare('insert into users (user_id, email, password_hash) values (?, ?, ?)').run(
    'auth0|floor',
    'bench@example.com',
    await hashPassword(PASSWORD),
  );
  const client = { clientId: 'floor-client', clientSecret: 'floor-secret-0123456789', callbacks: [CALLBACK] };
  const { privateKey } = await generateKeyPair('RS256');
  const now = () => Math.floor(Date.now() / 1000);
  const id = () => randomBytes(24).toString('base64url');
  const same = (a, b) =>
    typeof a === 'string' &&
    typeof b === 'string' &&
    a.length === b.length &&
    timingSafeEqual(Buffer.from(a), Buffer.from(b));
  const cookie = (req, name) =>
    (req.headers.cookie ?? '')
      .split('; ')
      .find((c) => c.startsWith(`${name}=`))
      ?.slice(name.length + 1);
  const signIn = db.transaction((txId, user, ip, userAgent, code, codeValue) => {
    if (!take.get(txId)) return false;
    const sid = id();
    insertSession.run(sid, user.user_id, now(), ip, userAgent);
    put.run(`code:${code}`, JSON.stringify({ ...codeValue, sid }), now() + 60);
    lastLogin.run(new Date().toISOString(), ip, user.user_id);
    log.run(id(), new Date().toISOString(), 's', user.user_id, client.clientId, ip, '{}');
    return sid;
  });

  const app = Fastify({ logger: false });
  await app.register(formbody);
  app.get('/authorize', async (req, reply) => {
    const q = req.query;
    if (q.client_id !== client.clientId || !client.callbacks.includes(q.redirect_uri))
      return reply.code(400).send('bad request');
    if (q.code_challenge_method !== 'S256' || typeof q.code_challenge !== 'string')
      return reply.code(400).send('bad request');
    const txId = id();
    const csrf = id();
    put.run(`tx:${txId}`, JSON.stringify({ request: q, csrf }), now() + 3600);
    return reply
      .header('set-cookie', `tx=${csrf}; Path=/u/; HttpOnly; SameSite=Lax`)
      .redirect(`/u/login?state=${txId}`, 302);
  });
  const open = (state) => {
    const row = typeof state === 'string' ? peek.get(`tx:${state}`, now()) : undefined;
    return row && JSON.parse(row.value);
  };
  app.get('/u/login', async (req, reply) => {
    const tx = open(req.query.state);
    if (!tx) return reply.code(400).send('expired');
    const state = encodeURIComponent(req.query.state);
    const links = {
      signupUrl: `/u/signup?state=${state}`,
      resetUrl: `/u/reset-password/request?state=${state}`,
    };
    return sendPage(
      reply,
      'login',
      { ...data, ...links, issuer, state: req.query.state, csrf: tx.csrf },
      {
        formAction: new URL(CALLBACK).origin,
      },
    );
  });
  app.post('/u/login', async (req, reply) => {
    const tx = open(req.body.state);
    if (!tx) return reply.code(400).send('expired');
    if (!same(req.body.csrf, tx.csrf) || !same(cookie(req, 'tx'), tx.csrf))
      return reply.code(403).send('csrf');
    const user = userByEmail.get(String(req.body.username).toLowerCase());
    if (!user || !(await checkPassword(String(req.body.password), user.password_hash)).ok)
      return reply.code(400).send('wrong');
    const code = id();
    const { request } = tx;
    const sid = signIn(`tx:${req.body.state}`, user, req.ip, req.headers['user-agent'], code, {
      userId: user.user_id,
      redirectUri: request.redirect_uri,
      challenge: request.code_challenge,
      scope: request.scope,
      authTime: now(),
    });
    if (!sid) return reply.code(400).send('expired');
    const back = new URL(request.redirect_uri);
    back.searchParams.set('code', code);
    back.searchParams.set('state', request.state);
    return reply
      .header('set-cookie', [`sid=${sid}; Path=/; HttpOnly; SameSite=Lax`, 'tx=; Path=/u/; Max-Age=0'])
      .redirect(back.href, 302);
  });
  app.post('/oauth/token', async (req, reply) => {
    const b = req.body;
    if (b.client_id !== client.clientId || !same(b.client_secret, client.clientSecret))
      return reply.code(401).send({ error: 'invalid_client' });
    const row = typeof b.code === 'string' ? take.get(`code:${b.code}`) : undefined;
    const code = row && row.expires_at > now() ? JSON.parse(row.value) : undefined;
    const challenge =
      typeof b.code_verifier === 'string'
        ? createHash('sha256').update(b.code_verifier).digest('base64url')
        : '';
    if (!code || code.redirectUri !== b.redirect_uri || !same(challenge, code.challenge))
      return reply.code(400).send({ error: 'invalid_grant' });
    const iat = now();
    const [accessToken, idToken] = await Promise.all([
      new SignJWT({ scope: code.scope, azp: client.clientId })
        .setProtectedHeader({ alg: 'RS256', kid: 'floor' })
        .setIssuer(issuer)
        .setSubject(code.userId)
        .setAudience(`${issuer}userinfo`)
        .setIssuedAt(iat)
        .setExpirationTime(iat + 86400)
        .sign(privateKey),
      new SignJWT({ sid: code.sid, auth_time: code.authTime })
        .setProtectedHeader({ alg: 'RS256', kid: 'floor' })
        .setIssuer(issuer)
        .setSubject(code.userId)
        .setAudience(client.clientId)
        .setIssuedAt(iat)
        .setExpirationTime(iat + 36000)
        .sign(privateKey),
    ]);
    return reply
      .header('cache-control', 'no-store')
      .send({ access_token: accessToken, id_token: idToken, token_type: 'Bearer', expires_in: 86400 });
  });
  await app.listen({ port, host: '127.0.0.1' });
  process.send({ up: true });
}

/** An application with the code flow and a user who can sign in to it, made through the Management API. */
async function setUp(issuer) {
  const token = await managementToken(issuer);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const client = await fetchJson(`${issuer}api/v2/clients`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      name: 'Bench Web',
      app_type: 'regular_web',
      callbacks: [CALLBACK],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_post',
    }),
  });
  const connections = await fetchJson(`${issuer}api/v2/connections?strategy=auth0`, { headers });
  const connection = connections[0];
  await fetchJson(`${issuer}api/v2/connections/${connection.id}`, {
    method: 'PATCH',
    headers,
    body: JSON.stringify({ enabled_clients: [...(connection.enabled_clients ?? []), client.client_id] }),
  });
  await fetchJson(`${issuer}api/v2/users`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ connection: connection.name, email: 'bench@example.com', password: PASSWORD }),
  });
  return { clientId: client.client_id, clientSecret: client.client_secret };
}

const cookiesOf = (res) => res.headers.getSetCookie().map((line) => line.split(';', 1)[0]);
const field = (html, name) => {
  const m = html.match(new RegExp(`name="${name}" value="([^"]*)"`));
  if (!m) throw new Error(`no ${name} field in the login page`);
  return m[1];
};

/** GET /authorize up to the login page: the transaction's state, CSRF token and browser cookie. */
async function startLogin(issuer, clientId, challenge) {
  const query = new URLSearchParams({
    client_id: clientId,
    redirect_uri: CALLBACK,
    response_type: 'code',
    scope: 'openid profile',
    state: 'bench',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const started = await fetch(`${issuer}authorize?${query}`, { redirect: 'manual' });
  const loginUrl = new URL(started.headers.get('location'), issuer);
  const cookies = cookiesOf(started);
  const page = await fetch(loginUrl, { headers: { cookie: cookies.join('; ') } });
  if (page.status !== 200) throw new Error(`login page answered ${page.status}`);
  const html = await page.text();
  return { loginUrl, cookies, state: field(html, 'state'), csrf: field(html, 'csrf') };
}

/** Step boundaries on the monotonic clock (µs), which the server's CPU profile shares: [step, start]. */
const marks = [];
const floorMarks = [];
const marker = (into) => (step) => into.push([step, Number(process.hrtime.bigint() / 1000n)]);
const markStep = marker(marks);
/** For the floor's sign-ins: each server's profile is split by its own steps. */
const markFloorStep = marker(floorMarks);

async function signIn(issuer, app, steps, mark = markStep) {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const t0 = performance.now();
  mark('authorize + login page');
  const login = await startLogin(issuer, app.clientId, challenge);
  mark('login POST');
  const t1 = performance.now();
  const posted = await fetch(login.loginUrl.origin + login.loginUrl.pathname, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: login.cookies.join('; ') },
    body: new URLSearchParams({
      state: login.state,
      csrf: login.csrf,
      username: 'bench@example.com',
      password: PASSWORD,
    }),
  });
  const code = new URL(posted.headers.get('location') ?? 'x:').searchParams.get('code');
  if (!code) throw new Error(`sign-in answered ${posted.status} ${await posted.text()}`);
  mark('code exchange');
  const t2 = performance.now();
  const tokens = await fetchJson(`${issuer}oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: app.clientId,
      client_secret: app.clientSecret,
      code,
      redirect_uri: CALLBACK,
      code_verifier: verifier,
    }),
  });
  mark('client');
  if (!tokens.id_token) throw new Error('no ID token');
  if (steps) {
    steps.start.push(t1 - t0);
    steps.post.push(t2 - t1);
    steps.exchange.push(performance.now() - t2);
  }
}

async function drive(server, url, headers, seconds) {
  const before = await cpuMicros(server);
  const r = await cannon({ connections: CONNECTIONS, url, headers, duration: seconds });
  const cpu = (await cpuMicros(server)) - before;
  const ok = r['2xx'];
  if (r.non2xx > 0 || r.errors > 0) console.warn(`  ${server.kind}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rate: ok / (r.duration || seconds), p50: r.latency.p50, cpuPerRequest: cpu / Math.max(1, ok) };
}

/**
 * The password check alone (argon2id verify of the same password, same parameters), one check at a time in this
 * process: `check()` times one and keeps its wall and CPU time, so the checks can be interleaved with the
 * sign-ins and both sample the same moments of a noisy machine.
 */
async function hashFloor() {
  const { hashPassword, checkPassword } = await import('../dist/users/passwords.js');
  const stored = await hashPassword(PASSWORD);
  const times = [];
  let cpuMicros = 0;
  return {
    async check() {
      const cpu = process.cpuUsage();
      const t0 = performance.now();
      if (!(await checkPassword(PASSWORD, stored))) throw new Error('hash check failed');
      times.push(performance.now() - t0);
      const used = process.cpuUsage(cpu);
      cpuMicros += used.user + used.system;
    },
    result: () => ({ p50: median(times), cpuMicros: cpuMicros / times.length }),
  };
}

/**
 * --step-profile: each server's main thread (Latchkey's and the floor's), sampled only while the sign-ins run, split
 * by the step the client had in flight (the processes read the same monotonic clock): busy time per sign-in and the
 * packages it went to. The profiles are kept in `dir` for a closer look (Chrome DevTools, or any .cpuprofile
 * reader), with the steps' start times (`<name>-steps.json`: [step, µs on the profile's clock]).
 */
function reportStepProfile(profile, dir, name, stepMarks) {
  writeFileSync(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
  writeFileSync(join(dir, `${name}-steps.json`), JSON.stringify(stepMarks));
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const signIns = stepMarks.filter(([step]) => step === 'authorize + login page').length;
  const owner = ({ url, functionName }) => {
    if (!url) return functionName.startsWith('(') ? functionName : `native ${functionName}`;
    const pkg = url.match(/node_modules\/((@[^/]+\/)?[^/]+)/);
    if (pkg) return pkg[1];
    if (url.includes('/bench/')) return 'bench';
    return url.includes('/dist/') ? `latchkey ${url.replace(/.*\/dist\//, '').split('/')[0]}` : 'node';
  };
  const steps = new Map();
  let at = profile.startTime;
  let j = 0;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i];
    while (j + 1 < stepMarks.length && stepMarks[j + 1][1] <= at) j++;
    const frame = byId.get(id);
    if (at < stepMarks[0][1] || frame.functionName === '(idle)') return;
    const step = steps.get(stepMarks[j][0]) ?? new Map();
    steps.set(stepMarks[j][0], step);
    step.set(owner(frame), (step.get(owner(frame)) ?? 0) + profile.timeDeltas[i]);
  });
  console.log(
    `\n${name}: server main thread while each step was in flight (${signIns} sign-ins, profiler on: slower than above)`,
  );
  for (const [step, owners] of steps) {
    const total = [...owners.values()].reduce((a, b) => a + b, 0);
    const top = [...owners]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([name, us]) => `${name} ${(us / signIns / 1000).toFixed(2)}`)
      .join(', ');
    console.log(`  ${step}: ${(total / signIns / 1000).toFixed(2)} ms busy per sign-in (ms: ${top})`);
  }
}

async function main() {
  const base = 4100 + Math.floor(Math.random() * 800);
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-sign-in-'));
  const profile = args.profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${args.profile}`];
  const latchkey = spawnServer(
    SCRIPT,
    'latchkey',
    base,
    ['--dir', dir, ...(STEP_PROFILE === undefined ? [] : ['--step-profile', STEP_PROFILE])],
    profile,
  );
  let bare;
  let floorServer;
  try {
    await latchkey.up;
    const issuer = `http://127.0.0.1:${base}/`;
    const app = await setUp(issuer);

    // (1) The login page of one live transaction, read over and over (each read takes and puts it back).
    const login = await startLogin(
      issuer,
      app.clientId,
      createHash('sha256').update('v').digest('base64url'),
    );
    const html = await (
      await fetch(login.loginUrl, { headers: { cookie: login.cookies.join('; ') } })
    ).text();
    const viewData = {
      issuer,
      tenantName: 'Latchkey',
      action: '/u/login',
      state: login.state,
      csrf: login.csrf,
      username: '',
      usernameAutocomplete: 'username',
      error: undefined,
      t: {
        title: 'Welcome',
        subtitle: `Log in to Latchkey to continue to Bench Web.`,
        username: 'Email address or username',
        password: 'Password',
        submit: 'Continue',
        forgot: 'Forgot your password?',
        noAccount: "Don't have an account?",
        signup: 'Sign up',
      },
      signupUrl: `/u/signup?state=${encodeURIComponent(login.state)}`,
      resetUrl: `/u/reset-password/request?state=${encodeURIComponent(login.state)}`,
    };
    bare = spawnServer(SCRIPT, 'bare', base + 1, ['--data', JSON.stringify(viewData)]);
    floorServer = spawnServer(SCRIPT, 'floor', base + 2, [
      '--dir',
      dir,
      '--data',
      JSON.stringify(viewData),
      ...(STEP_PROFILE === undefined ? [] : ['--step-profile', STEP_PROFILE]),
    ]);
    await Promise.all([bare.up, floorServer.up]);
    const floorIssuer = `http://127.0.0.1:${base + 2}/`;
    const floorApp = { clientId: 'floor-client', clientSecret: 'floor-secret-0123456789' };
    const bareHtml = await (await fetch(`http://127.0.0.1:${base + 1}/u/login`)).text();
    const strip = (s) => s.replace(/nonce="[^"]+"/g, '');
    if (Math.abs(strip(bareHtml).length - strip(html).length) > 200)
      console.warn(
        `  the bare page (${bareHtml.length} bytes) differs from the real one (${html.length} bytes)`,
      );
    const pageUrl = login.loginUrl.href;
    const pageHeaders = { cookie: login.cookies.join('; ') };
    const bareUrl = `http://127.0.0.1:${base + 1}/u/login`;
    const pages = { bare: [], latchkey: [] };
    if (!SIGN_IN_ONLY) {
      await drive(latchkey, pageUrl, pageHeaders, 2); // warm-up (JIT, caches)
      await drive(bare, bareUrl, {}, 2);
    }
    for (let round = 1; round <= (SIGN_IN_ONLY ? 0 : ROUNDS); round++) {
      const b = await drive(bare, bareUrl, {}, SECONDS);
      const l = await drive(latchkey, pageUrl, pageHeaders, SECONDS);
      pages.bare.push(b);
      pages.latchkey.push(l);
      console.log(
        `login page round ${round}: bare ${b.rate.toFixed(0)}/s ${b.cpuPerRequest.toFixed(0)} µs CPU | Latchkey ${l.rate.toFixed(0)}/s ${l.cpuPerRequest.toFixed(0)} µs CPU | CPU ${(l.cpuPerRequest / b.cpuPerRequest).toFixed(2)}x`,
      );
    }

    // The HTTP floor of a sign-in: its four requests, one after another, to the bare route (same client code).
    const httpTimes = [];
    for (let i = 0; i < 300; i++) {
      const t0 = performance.now();
      for (let r = 0; r < 4; r++) await (await fetch(bareUrl)).text();
      httpTimes.push(performance.now() - t0);
    }
    const httpFloor = median(httpTimes.slice(50));

    // (2) Whole sign-ins, one at a time, against the hash alone.
    for (let i = 0; i < 10; i++) {
      await signIn(issuer, app); // warm-up
      await signIn(floorIssuer, floorApp, undefined, markFloorStep);
    }
    if (STEP_PROFILE !== undefined) for (const s of [latchkey, floorServer]) s.child.send('profile-start');
    marks.length = 0;
    floorMarks.length = 0;
    const flows = [];
    const floors = [];
    const hashes = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const times = [];
      const floorTimes = [];
      const steps = { start: [], post: [], exchange: [] };
      const floorSteps = { start: [], post: [], exchange: [] };
      const floor = await hashFloor();
      // Each server idles while the other signs in and this process checks the hash alone: its CPU over the
      // round is its own sign-ins'.
      const before = await cpuMicros(latchkey);
      const floorBefore = await cpuMicros(floorServer);
      for (let i = 0; i < SIGN_INS; i++) {
        const t0 = performance.now();
        await signIn(issuer, app, steps);
        times.push(performance.now() - t0);
        const t1 = performance.now();
        await signIn(floorIssuer, floorApp, floorSteps, markFloorStep);
        floorTimes.push(performance.now() - t1);
        await floor.check();
      }
      const cpu = ((await cpuMicros(latchkey)) - before) / SIGN_INS;
      const floorCpu = ((await cpuMicros(floorServer)) - floorBefore) / SIGN_INS;
      const hash = floor.result();
      flows.push({ p50: median(times), cpu });
      floors.push({ p50: median(floorTimes), cpu: floorCpu });
      hashes.push(hash);
      const ms = (xs) => median(xs).toFixed(1);
      console.log(
        `  floor round ${round}: p50 ${ms(floorTimes)} ms (authorize + login page ${ms(floorSteps.start)}, login POST ${ms(floorSteps.post)}, code exchange ${ms(floorSteps.exchange)}), server CPU ${(floorCpu / 1000).toFixed(1)} ms | over the hash ${(median(floorTimes) - hash.p50).toFixed(1)} ms`,
      );
      console.log(
        `sign-in round ${round}: p50 ${median(times).toFixed(1)} ms (authorize + login page ${median(steps.start).toFixed(1)}, login POST ${median(steps.post).toFixed(1)}, code exchange ${median(steps.exchange).toFixed(1)}), server CPU ${(cpu / 1000).toFixed(1)} ms | hash alone p50 ${hash.p50.toFixed(1)} ms, CPU ${(hash.cpuMicros / 1000).toFixed(1)} ms | over the hash ${(median(times) - hash.p50).toFixed(1)} ms`,
      );
    }

    if (STEP_PROFILE !== undefined) {
      for (const [server, name, marked] of [
        [latchkey, 'latchkey', marks],
        [floorServer, 'floor', floorMarks],
      ]) {
        const profile = new Promise((resolve) => server.child.once('message', (m) => resolve(m.profile)));
        server.child.send('profile-stop');
        reportStepProfile(await profile, STEP_PROFILE, name, marked);
      }
    }
    const m = (rs, f) => median(rs.map((r) => r[f]));
    if (!SIGN_IN_ONLY) {
      console.log(
        `\nHosted login page, GET /u/login (${availableParallelism()} cores, ${CONNECTIONS} connections, ${SECONDS}s x ${ROUNDS} rounds, medians and spread; load generator on the same machine)`,
      );
      for (const [label, rs] of [
        ['bare Fastify rendering the same view', pages.bare],
        ['Latchkey', pages.latchkey],
      ])
        console.log(
          `  ${label.padEnd(38)} ${m(rs, 'rate').toFixed(0).padStart(6)} 2xx/s (${spread(rs.map((r) => r.rate))})  CPU ${m(rs, 'cpuPerRequest').toFixed(0).padStart(4)} µs/request (${spread(rs.map((r) => r.cpuPerRequest))})`,
        );
      console.log(
        `  Latchkey / bare: CPU per request ${(m(pages.latchkey, 'cpuPerRequest') / m(pages.bare, 'cpuPerRequest')).toFixed(2)}x, throughput ${(m(pages.latchkey, 'rate') / m(pages.bare, 'rate')).toFixed(2)}x (goal: cost at most 2x)`,
      );
    }
    const flowP50 = m(flows, 'p50');
    const hashP50 = m(hashes, 'p50');
    console.log(
      `\nWhole sign-in (authorize, login page, login POST, code exchange), ${SIGN_INS} one after another x ${ROUNDS} rounds, no timing floor`,
    );
    console.log(
      `  p50 ${flowP50.toFixed(1)} ms (${spread(
        flows.map((f) => f.p50),
        1,
      )}), server CPU ${(m(flows, 'cpu') / 1000).toFixed(1)} ms per sign-in`,
    );
    console.log(
      `  argon2id verify alone: p50 ${hashP50.toFixed(1)} ms (${spread(
        hashes.map((h) => h.p50),
        1,
      )}), CPU ${(m(hashes, 'cpuMicros') / 1000).toFixed(1)} ms`,
    );
    console.log(
      `  sign-in over the hash: ${(flowP50 - hashP50).toFixed(1)} ms at p50 (goal <= 5 ms), CPU ${((m(flows, 'cpu') - m(hashes, 'cpuMicros')) / 1000).toFixed(1)} ms`,
    );
    console.log(
      `  of which the HTTP floor (four requests to the bare route, one after another, same client): ${httpFloor.toFixed(1)} ms; over the hash and that floor: ${(flowP50 - hashP50 - httpFloor).toFixed(1)} ms`,
    );
    const floorP50 = m(floors, 'p50');
    console.log(
      `  bare sign-in server doing the essential work (see floorChild): p50 ${floorP50.toFixed(1)} ms (${spread(
        floors.map((f) => f.p50),
        1,
      )}), server CPU ${(m(floors, 'cpu') / 1000).toFixed(1)} ms; over the hash ${(floorP50 - hashP50).toFixed(1)} ms, CPU ${((m(floors, 'cpu') - m(hashes, 'cpuMicros')) / 1000).toFixed(1)} ms`,
    );
    console.log(
      `  Latchkey over that floor: ${(flowP50 - floorP50).toFixed(1)} ms at p50; over the hash, Latchkey / that floor: ${((flowP50 - hashP50) / (floorP50 - hashP50)).toFixed(2)}x at p50, CPU ${((m(flows, 'cpu') - m(hashes, 'cpuMicros')) / (m(floors, 'cpu') - m(hashes, 'cpuMicros'))).toFixed(2)}x`,
    );
  } finally {
    await stopServers([latchkey, bare, floorServer].filter(Boolean));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (args.child !== undefined) {
  reportCpu();
  const port = Number(args.port);
  if (['latchkey', 'floor'].includes(args.child) && STEP_PROFILE !== undefined) {
    const { Session } = await import('node:inspector/promises');
    const session = new Session();
    session.connect();
    process.on('message', async (m) => {
      if (m === 'profile-start') {
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: 200 });
        await session.post('Profiler.start');
      }
      if (m === 'profile-stop') process.send({ profile: (await session.post('Profiler.stop')).profile });
    });
  }
  if (args.child === 'latchkey') {
    await startLatchkey(port, args.dir, { passwordCheckFloorMs: 0 });
    process.send({ up: true });
  } else if (args.child === 'floor') {
    await floorChild(port, JSON.parse(args.data));
  } else {
    await bareChild(port, JSON.parse(args.data));
  }
} else {
  await main();
}
