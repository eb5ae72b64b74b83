import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { api } from '../../helpers/http.js';

const DB = 'Username-Password-Authentication';
const PASSWORD = 'Correct-Horse-9';
let n = 0;
const email = (tag = 'u') => `${tag}.${Date.now()}.${n++}@Example.COM`;

interface UserBody {
  user_id: string;
  email: string;
  [k: string]: unknown;
}

describe.each(testBackends())('/api/v2/users on $name', (backend) => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    token = await t.managementToken();
  });
  afterAll(async () => {
    await t.close();
  });

  const create = (body: Record<string, unknown>) =>
    api(t.app, {
      method: 'POST',
      url: '/api/v2/users',
      token,
      body: { connection: DB, password: PASSWORD, ...body },
    });

  it('creates a database user in Auth0 shape', async () => {
    const address = email();
    const res = await create({
      email: address,
      given_name: 'Zoë',
      user_metadata: { theme: 'dark' },
      app_metadata: { plan: 'gold' },
    });
    expect(res.statusCode).toBe(201);
    const body = res.json<UserBody>();
    expect(body).toEqual({
      user_id: expect.stringMatching(/^auth0\|[0-9a-f]{24}$/),
      email: address,
      email_verified: false,
      name: address,
      nickname: address.split('@')[0],
      given_name: 'Zoë',
      created_at: expect.any(String),
      updated_at: expect.any(String),
      identities: [{ connection: DB, user_id: body.user_id.slice(6), provider: 'auth0', isSocial: false }],
      user_metadata: { theme: 'dark' },
      app_metadata: { plan: 'gold' },
      logins_count: 0,
    });
    expect(body).not.toHaveProperty('password');
    const stored = await t.deps.store.users.findById(body.user_id);
    expect(stored?.passwordHash).toMatch(/^\$argon2id\$/);
  });

  it('keeps a given user_id and answers 409 for duplicates (id, or email case-insensitively)', async () => {
    const address = email('dup');
    expect((await create({ email: address, user_id: 'fixed-id-1' })).json<UserBody>().user_id).toBe(
      'auth0|fixed-id-1',
    );
    for (const body of [{ email: email(), user_id: 'fixed-id-1' }, { email: address.toUpperCase() }]) {
      const res = await create(body);
      expect(res.statusCode).toBe(409);
      expect(res.json()).toEqual({
        statusCode: 409,
        error: 'Conflict',
        message: 'User already exists.',
        errorCode: 'user_conflict',
      });
    }
  });

  it.each([
    [{ connection: 'nope', email: 'a@b.co' }, 400, 'The connection does not exist.', 'inexistent_connection'],
    [
      { password: undefined, email: 'a@b.co' },
      400,
      "Payload validation error: 'Missing required property: password'.",
      'invalid_body',
    ],
    [{}, 400, "Payload validation error: 'Missing required property: email'.", 'invalid_body'],
    [
      { email: 'not-an-email' },
      400,
      'Payload validation error: \'must match format "email"\' on property email.',
      'invalid_body',
    ],
    [
      { email: 'a@b.co', user_metadata: 'nope' },
      400,
      "Payload validation error: 'must be object' on property user_metadata.",
      'invalid_body',
    ],
    [
      { email: 'a@b.co', user_metadata: [1] },
      400,
      "Payload validation error: 'must be object' on property user_metadata.",
      'invalid_body',
    ],
    [
      { email: 'a@b.co', username: 'bob' },
      400,
      'Payload validation error: this connection does not use usernames (requires_username is off).',
      'invalid_body',
    ],
    [
      { email: 'a@b.co', role: 'admin' },
      400,
      "Payload validation error: 'Additional properties not allowed: role'.",
      'invalid_body',
    ],
  ])('refuses %j', async (body, status, message, errorCode) => {
    const res = await create(body);
    expect(res.statusCode).toBe(status);
    expect(res.json()).toEqual({ statusCode: status, error: 'Bad Request', message, errorCode });
  });

  it('enforces the connection password policy with a message saying what is missing', async () => {
    const res = await create({ email: email(), password: 'password' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message:
        'PasswordStrengthError: Password is too weak. It must have contain at least 3 of the following 4 types of characters: lower case letters (a-z), upper case letters (A-Z), numbers (0-9), special characters (e.g. !@#$%^&*).',
      errorCode: 'invalid_body',
    });
  });

  it('gets, patches (root replace, metadata merge one level, null removes) and deletes', async () => {
    const created = (
      await create({ email: email(), user_metadata: { a: 1, nested: { x: 1, y: 2 }, gone: true } })
    ).json<UserBody>();
    const url = `/api/v2/users/${encodeURIComponent(created.user_id)}`;
    expect((await api(t.app, { method: 'GET', url, token })).json()).toEqual(created);
    const patched = await api(t.app, {
      method: 'PATCH',
      url,
      token,
      body: {
        name: 'New Name ✓',
        user_metadata: { b: 2, nested: { z: 3 }, gone: null },
        app_metadata: { roles: ['x'] },
        blocked: true,
      },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({
      name: 'New Name ✓',
      user_metadata: { a: 1, b: 2, nested: { z: 3 } },
      app_metadata: { roles: ['x'] },
      blocked: true,
    });
    expect(patched.json<{ user_metadata: object }>().user_metadata).not.toHaveProperty('gone');
    const cleared = await api(t.app, {
      method: 'PATCH',
      url,
      token,
      body: { user_metadata: null, name: null },
    });
    expect(cleared.json()).not.toHaveProperty('user_metadata');
    expect(cleared.json()).not.toHaveProperty('name');
    expect((await api(t.app, { method: 'DELETE', url, token })).statusCode).toBe(204);
    const gone = await api(t.app, { method: 'GET', url, token });
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'The user does not exist.',
      errorCode: 'inexistent_user',
    });
  });

  it('changes the password under the policy and records last_password_reset', async () => {
    const created = (await create({ email: email() })).json<UserBody>();
    const url = `/api/v2/users/${encodeURIComponent(created.user_id)}`;
    expect((await api(t.app, { method: 'PATCH', url, token, body: { password: 'weak' } })).statusCode).toBe(
      400,
    );
    const before = (await t.deps.store.users.findById(created.user_id))?.passwordHash;
    const ok = await api(t.app, { method: 'PATCH', url, token, body: { password: 'Another-Strong-7' } });
    expect(ok.json()).toMatchObject({ last_password_reset: expect.any(String) });
    expect((await t.deps.store.users.findById(created.user_id))?.passwordHash).not.toBe(before);
  });

  it('searches with q and pages with totals', async () => {
    const tag = `srch${Date.now()}`;
    for (let i = 0; i < 3; i++)
      await create({ email: `${tag}-${i}@search.example.com`, app_metadata: { tier: i } });
    const res = await api(t.app, {
      method: 'GET',
      url: `/api/v2/users?q=${encodeURIComponent(`email:${tag}* AND NOT app_metadata.tier:1`)}&search_engine=v3&include_totals=true&per_page=10&sort=email:-1`,
      token,
    });
    expect(res.statusCode).toBe(200);
    const body = res.json<{
      start: number;
      limit: number;
      length: number;
      total: number;
      users: UserBody[];
    }>();
    expect(body).toMatchObject({ start: 0, limit: 10, length: 2, total: 2 });
    expect(body.users.map((u) => u.email)).toEqual([
      `${tag}-2@search.example.com`,
      `${tag}-0@search.example.com`,
    ]);
    const bare = await api(t.app, {
      method: 'GET',
      url: `/api/v2/users?q=${encodeURIComponent(`email:${tag}*`)}&fields=email&per_page=1&page=1&sort=email:1`,
      token,
    });
    expect(bare.json()).toEqual([{ email: `${tag}-1@search.example.com` }]);
  });

  it.each([
    ['q=email:(', 'invalid query'],
    ['per_page=500', 'per_page'],
    ['page=20&per_page=100', 'only the first 1000 users'],
    ['sort=password:1', 'cannot sort by password'],
    ['q=favourite:blue', 'unknown field favourite'],
    ['search_engine=v9', 'search_engine'],
  ])('answers 400 invalid_query_string for ?%s', async (query, word) => {
    const res = await api(t.app, { method: 'GET', url: `/api/v2/users?${query}`, token });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      statusCode: 400,
      errorCode: 'invalid_query_string',
      message: expect.stringContaining(word),
    });
  });

  it('finds users by email case-insensitively', async () => {
    const address = email('byemail');
    const created = (await create({ email: address })).json<UserBody>();
    const res = await api(t.app, {
      method: 'GET',
      url: `/api/v2/users-by-email?email=${encodeURIComponent(address.toLowerCase())}`,
      token,
    });
    expect(res.json<UserBody[]>().map((u) => u.user_id)).toEqual([created.user_id]);
  });

  it('lets a current-user token read only its own user (seed 003)', async () => {
    const me = (await create({ email: email('me') })).json<UserBody>();
    const other = (await create({ email: email('other') })).json<UserBody>();
    const now = Math.floor(t.clock.now() / 1000);
    const userToken = await t.deps.signer.sign(
      {
        iss: 'https://latchkey.test/',
        sub: me.user_id,
        aud: 'https://latchkey.test/api/v2/',
        iat: now,
        exp: now + 60,
        scope: 'read:current_user update:current_user_metadata',
        azp: 'spa',
      },
      { alg: 'RS256', typ: 'JWT' },
    );
    const mine = await api(t.app, {
      method: 'GET',
      url: `/api/v2/users/${encodeURIComponent(me.user_id)}`,
      token: userToken,
    });
    expect(mine.statusCode).toBe(200);
    const theirs = await api(t.app, {
      method: 'GET',
      url: `/api/v2/users/${encodeURIComponent(other.user_id)}`,
      token: userToken,
    });
    expect(theirs.statusCode).toBe(403);
    expect(theirs.json()).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: 'User to be acted on does not match subject in bearer token.',
      errorCode: 'insufficient_scope',
    });
    const meta = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/users/${encodeURIComponent(me.user_id)}`,
      token: userToken,
      body: { user_metadata: { lang: 'fr' } },
    });
    expect(meta.json()).toMatchObject({ user_metadata: { lang: 'fr' } });
    const escalate = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/users/${encodeURIComponent(me.user_id)}`,
      token: userToken,
      body: { app_metadata: { admin: true } },
    });
    expect(escalate.statusCode).toBe(403);
    const list = await api(t.app, { method: 'GET', url: '/api/v2/users', token: userToken });
    expect(list.json()).toMatchObject({ message: 'Insufficient scope, expected any of: read:users' });
  });
});
