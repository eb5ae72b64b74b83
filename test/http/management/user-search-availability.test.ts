import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, type TestBackend } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { api } from '../../helpers/http.js';

const DB = 'Username-Password-Authentication';
const TIMEOUT_BODY = {
  statusCode: 503,
  error: 'Service Unavailable',
  message: 'The query exceeded the timeout. Please try refining your search criteria.',
  errorCode: 'query_timeout',
};
// The query of the review that froze a SQLite server for 58.6 s: 500 two-letter words, 1,499 characters.
const FIVE_HUNDRED_WORDS = Array.from(
  { length: 500 },
  (_, i) => String.fromCharCode(97 + (i % 26)) + String.fromCharCode(97 + ((i * 7) % 26)),
).join(' ');

const search = (t: TestApp, token: string, q: string, extra = '') =>
  api(t.app, {
    method: 'GET',
    url: `/api/v2/users?q=${encodeURIComponent(q)}&search_engine=v3${extra}`,
    token,
  });

async function seed(t: TestApp, token: string, tag: string): Promise<void> {
  for (const name of ['ada', 'grace', 'edsger']) {
    const res = await api(t.app, {
      method: 'POST',
      url: '/api/v2/users',
      token,
      body: { connection: DB, email: `${name}.${tag}@example.org`, password: 'Correct-Horse-9', name },
    });
    expect(res.statusCode).toBe(201);
  }
}

describe.each(testBackends())('user search cost on $name', (backend) => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    token = await t.managementTokenWith(['read:users', 'create:users']);
    await seed(t, token, 'cost');
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses the 500-word query with 400 invalid_query_string, needing only read:users', async () => {
    const res = await search(t, await t.managementTokenWith(['read:users']), FIVE_HUNDRED_WORDS);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: "Query validation error: 'invalid query: the query has more than 50 terms' on property q.",
      errorCode: 'invalid_query_string',
    });
  });

  it.each([
    [
      'three leading wildcards',
      'name:*ada OR name:*ace OR name:*ger',
      "'invalid query: the query has more than 2 leading wildcards'",
    ],
    [
      'eleven NOTs',
      `${'NOT '.repeat(11)}ada`,
      "'invalid query: the query nests more than 10 levels deep (parentheses and NOT)'",
    ],
    ['2001 characters', `name:"${'a'.repeat(1994)}"`, "'must NOT have more than 2000 characters'"],
  ])('refuses a query of %s with a message naming the limit', async (_what, q, why) => {
    const res = await search(t, token, q);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: `Query validation error: ${why} on property q.`,
      errorCode: 'invalid_query_string',
    });
  });

  it('finds users by a leading wildcard, as Auth0 allows with 3 characters after the *', async () => {
    const res = await search(t, token, 'name:*ace', '&fields=name');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual([{ name: 'grace' }]);
  });
});

/**
 * Makes the next search run past a short timeout. PostgreSQL: another transaction locks the users table, so
 * the search waits until its statement timeout cancels it. SQLite: the search's deadline has already passed
 * when its first row is read (a SQLite read cannot be made to wait: WAL readers never block).
 */
async function stalled<T>(t: TestApp, backend: TestBackend, run: () => Promise<T>): Promise<T> {
  if (backend.name === 'sqlite') return run();
  return t.deps.storage.db.transaction().execute(async (trx) => {
    await sql`lock table users in access exclusive mode`.execute(trx);
    return run();
  });
}

describe.each(testBackends())('a user search past the timeout on $name', (backend) => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await buildTestApp(backend, {}, { searchTimeoutMs: backend.name === 'sqlite' ? -1 : 300 });
    token = await t.managementToken();
    await seed(t, token, 'slow');
  });
  afterAll(async () => {
    await t.close();
  });

  it.each([
    ['words that match nobody', 'nobody nowhere'],
    ['an exact email', 'email:"ada.slow@example.org"'],
    ['a metadata path', 'user_metadata.plan:"gold"'],
  ])('answers 503 as Auth0 does, for %s', async (_what, q) => {
    const res = await stalled(t, backend, () => search(t, token, q, '&include_totals=true'));
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual(TIMEOUT_BODY);
  });

  it.runIf(backend.name === 'postgres')('answers the same search once nothing holds it up', async () => {
    const res = await search(t, token, 'email:"ada.slow@example.org"', '&fields=email&include_totals=true');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      start: 0,
      limit: 50,
      length: 1,
      total: 1,
      users: [{ email: 'ada.slow@example.org' }],
    });
  });
});

describe('user search on a SQLite file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-search-'));
  let t: TestApp;
  let slow: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await buildTestApp({ name: 'sqlite', url: `sqlite:${join(dir, 'a.sqlite')}` });
    slow = await buildTestApp(
      { name: 'sqlite', url: `sqlite:${join(dir, 'b.sqlite')}` },
      {},
      { searchTimeoutMs: -1 },
    );
    token = await t.managementToken();
    await seed(t, token, 'file');
    await seed(slow, await slow.managementToken(), 'file');
  });
  afterAll(async () => {
    await t.close();
    await slow.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds, counts, sorts and pages as on the main connection', async () => {
    const res = await search(
      t,
      token,
      'email:*example.org',
      '&fields=email&sort=email:1&per_page=2&page=0&include_totals=true',
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      start: 0,
      limit: 2,
      length: 2,
      total: 3,
      users: [{ email: 'ada.file@example.org' }, { email: 'edsger.file@example.org' }],
    });
  });

  it('sees a user created a moment ago (the worker reads what the main connection committed)', async () => {
    await seed(t, token, 'later');
    const res = await search(t, token, 'email:"grace.later@example.org"', '&fields=email');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual([{ email: 'grace.later@example.org' }]);
  });

  it('runs the search on a connection of its own: it answers while the main connection is held', async () => {
    const q = 'nobody';
    expect((await search(t, token, q, '&include_totals=true')).statusCode).toBe(200);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const holding = t.deps.storage.db.transaction().execute(() => held);
    try {
      const res = await search(t, token, q, '&include_totals=true');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ start: 0, limit: 50, length: 0, total: 0, users: [] });
    } finally {
      release();
      await holding;
    }
  });

  it('answers 503 when the worker stops a search at its deadline', async () => {
    const res = await search(slow, await slow.managementToken(), 'nobody nowhere', '&include_totals=true');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual(TIMEOUT_BODY);
  });
});
