import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { api } from '../../helpers/http.js';

const DB = 'Username-Password-Authentication';
const PASSWORD = 'Correct-Horse-9';
let n = 0;
const email = (tag = 'u') => `${tag}.${Date.now()}.${n++}@Example.COM`;
const BCRYPT_SAMPLE = bcrypt.hashSync('Sample-Pass-1', 4);

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
    // Auth0 stores database-connection emails lowercased.
    const stored = address.toLowerCase();
    expect(body).toEqual({
      user_id: expect.stringMatching(/^auth0\|[0-9a-f]{24}$/),
      email: stored,
      email_verified: false,
      name: stored,
      nickname: stored.split('@')[0],
      given_name: 'Zoë',
      created_at: expect.any(String),
      updated_at: expect.any(String),
      identities: [{ connection: DB, user_id: body.user_id.slice(6), provider: 'auth0', isSocial: false }],
      user_metadata: { theme: 'dark' },
      app_metadata: { plan: 'gold' },
      logins_count: 0,
    });
    expect(body).not.toHaveProperty('password');
    expect((await t.deps.store.users.findById(body.user_id))?.identities[0]?.passwordHash).toMatch(
      /^\$argon2id\$/,
    );
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

  it('enforces the connection password policy in Auth0 words', async () => {
    const res = await create({ email: email(), password: 'password' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'PasswordStrengthError: Password is too weak',
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
    const before = (await t.deps.store.users.findById(created.user_id))?.identities[0]?.passwordHash;
    const ok = await api(t.app, { method: 'PATCH', url, token, body: { password: 'Another-Strong-7' } });
    expect(ok.json()).toMatchObject({ last_password_reset: expect.any(String) });
    expect((await t.deps.store.users.findById(created.user_id))?.identities[0]?.passwordHash).not.toBe(
      before,
    );
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
    ['q=created_at:2020-13', 'bad date 2020-13'],
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

  it('stores emails lowercased on create and patch, and finds them in any case', async () => {
    const address = email('MiXeD');
    const created = await create({ email: address });
    expect(created.json()).toMatchObject({ email: address.toLowerCase() });
    const { user_id: userId } = created.json<UserBody>();
    const byEmail = await api(t.app, {
      method: 'GET',
      url: `/api/v2/users-by-email?email=${encodeURIComponent(address.toUpperCase())}&fields=user_id,email`,
      token,
    });
    expect(byEmail.statusCode).toBe(200);
    expect(byEmail.json()).toEqual([{ user_id: userId, email: address.toLowerCase() }]);
    const search = await api(t.app, {
      method: 'GET',
      url: `/api/v2/users?q=${encodeURIComponent(`email:"${address.toUpperCase()}"`)}&fields=user_id`,
      token,
    });
    expect(search.json()).toEqual([{ user_id: userId }]);

    const changed = email('NeW');
    const url = `/api/v2/users/${encodeURIComponent(userId)}`;
    const patched = await api(t.app, { method: 'PATCH', url, token, body: { email: changed } });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ email: changed.toLowerCase(), email_verified: false });
    const again = await api(t.app, { method: 'PATCH', url, token, body: { email: changed.toUpperCase() } });
    expect(again.json()).toMatchObject({ email: changed.toLowerCase() });
    const taken = await create({ email: changed.toUpperCase() });
    expect(taken.statusCode).toBe(409);
  });

  it.each([
    ['created_at:[2020-13-45 TO *]', '2020-13-45'],
    ['last_login:{2024-02-30 TO *]', '2024-02-30'],
    ['updated_at:[* TO 2024-01-01T25:00:00Z]', '2024-01-01T25:00:00Z'],
  ])('answers 400 invalid_query_string for the impossible date in q=%s', async (q, bad) => {
    const res = await api(t.app, { method: 'GET', url: `/api/v2/users?q=${encodeURIComponent(q)}`, token });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: `Query validation error: 'invalid query: bad date ${bad}' on property q.`,
      errorCode: 'invalid_query_string',
    });
  });

  it('still accepts real dates and times in ranges', async () => {
    for (const q of [
      'created_at:[2020-02-29 TO *]',
      'created_at:[2020-01-01T00:00:00.000Z TO 2999-12-31T23:59]',
    ]) {
      const res = await api(t.app, { method: 'GET', url: `/api/v2/users?q=${encodeURIComponent(q)}`, token });
      expect(res.statusCode).toBe(200);
    }
  });

  it('refuses a PATCH whose metadata merge would exceed 100 properties, so the user list keeps working', async () => {
    const keys = (prefix: string) =>
      Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`${prefix}${i}`, i]));
    const created = await create({ email: email('meta'), user_metadata: keys('a'), app_metadata: keys('a') });
    expect(created.statusCode).toBe(201);
    const { user_id: userId } = created.json<UserBody>();
    const url = `/api/v2/users/${encodeURIComponent(userId)}`;
    for (const field of ['user_metadata', 'app_metadata']) {
      const res = await api(t.app, { method: 'PATCH', url, token, body: { [field]: keys('b') } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: `Payload validation error: ${field} would have 200 properties after the merge; at most 100 are allowed.`,
        errorCode: 'invalid_body',
      });
    }
    // Swapping keys within the limit is fine.
    const swapped = await api(t.app, {
      method: 'PATCH',
      url,
      token,
      body: { user_metadata: { a0: null, b0: 0 } },
    });
    expect(swapped.statusCode).toBe(200);
    expect(Object.keys(swapped.json<{ user_metadata: object }>().user_metadata)).toHaveLength(100);
    const list = await api(t.app, {
      method: 'GET',
      url: `/api/v2/users?q=${encodeURIComponent(`user_id:"${userId}"`)}&fields=user_id`,
      token,
    });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual([{ user_id: userId }]);
  });

  it('accepts the user’s own connection in a PATCH and refuses an unknown or foreign one', async () => {
    const { user_id: userId } = (await create({ email: email('conn') })).json<UserBody>();
    const url = `/api/v2/users/${encodeURIComponent(userId)}`;
    const own = await api(t.app, { method: 'PATCH', url, token, body: { connection: DB, name: 'Own' } });
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({ name: 'Own' });

    const unknown = await api(t.app, {
      method: 'PATCH',
      url,
      token,
      body: { connection: 'nope', name: 'X' },
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'The connection does not exist.',
      errorCode: 'inexistent_connection',
    });
    const other = `other-db-${n++}`;
    await api(t.app, {
      method: 'POST',
      url: '/api/v2/connections',
      token,
      body: { name: other, strategy: 'auth0' },
    });
    const foreign = await api(t.app, { method: 'PATCH', url, token, body: { connection: other, name: 'X' } });
    expect(foreign.statusCode).toBe(400);
    expect(foreign.json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: `Payload validation error: the user has no identity in connection ${other}.`,
      errorCode: 'invalid_body',
    });
    expect((await api(t.app, { method: 'GET', url, token })).json()).toMatchObject({ name: 'Own' });
  });

  it('refuses to remove the username on a connection that requires usernames', async () => {
    const name = `named-db-${n++}`;
    await api(t.app, {
      method: 'POST',
      url: '/api/v2/connections',
      token,
      body: { name, strategy: 'auth0', options: { requires_username: true } },
    });
    const created = await create({ connection: name, email: email('named'), username: 'keeper' });
    expect(created.statusCode).toBe(201);
    const url = `/api/v2/users/${encodeURIComponent(created.json<UserBody>().user_id)}`;
    const res = await api(t.app, { method: 'PATCH', url, token, body: { username: null } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'Payload validation error: username cannot be removed: this connection requires usernames.',
      errorCode: 'invalid_body',
    });
    expect((await api(t.app, { method: 'GET', url, token })).json()).toMatchObject({ username: 'keeper' });
  });

  it('imports a bcrypt custom_password_hash and never returns it', async () => {
    const hash = await bcrypt.hash('Imported-Pass-1', 4);
    const address = email('import').toLowerCase();
    const res = await create({
      email: address,
      password: undefined,
      custom_password_hash: { algorithm: 'bcrypt', hash: { value: hash } },
    });
    expect(res.statusCode).toBe(201);
    const body = res.json<UserBody>();
    expect(body).toEqual({
      user_id: expect.stringMatching(/^auth0\|[0-9a-f]{24}$/),
      email: address,
      email_verified: false,
      name: address,
      nickname: address.split('@')[0],
      created_at: expect.any(String),
      updated_at: expect.any(String),
      identities: [{ connection: DB, user_id: body.user_id.slice(6), provider: 'auth0', isSocial: false }],
      logins_count: 0,
    });
    const url = `/api/v2/users/${encodeURIComponent(body.user_id)}`;
    for (const r of [res, await api(t.app, { method: 'GET', url, token })]) {
      expect(r.body).not.toContain(hash);
      expect(r.body).not.toContain('custom_password_hash');
    }
  });

  it.each([
    [
      { password: PASSWORD, custom_password_hash: { algorithm: 'bcrypt', hash: { value: BCRYPT_SAMPLE } } },
      'Payload validation error: password and custom_password_hash cannot be used together.',
    ],
    [
      { custom_password_hash: { algorithm: 'md5', hash: { value: '5f4dcc3b5aa765d61d8327deb882cf99' } } },
      'Payload validation error: custom_password_hash algorithm md5 is not supported; only bcrypt is supported.',
    ],
    [
      { custom_password_hash: { algorithm: 'bcrypt', hash: { value: 'not-a-bcrypt-hash' } } },
      'Payload validation error: custom_password_hash hash.value is not a bcrypt hash ($2a$, $2b$ or $2y$).',
    ],
    [
      {
        custom_password_hash: {
          algorithm: 'bcrypt',
          hash: { value: BCRYPT_SAMPLE },
          salt: { value: 'pepper' },
        },
      },
      'Payload validation error: a bcrypt custom_password_hash carries its salt and cost in hash.value; salt, password, keys, parameters, hash.digest and hash.key are not allowed.',
    ],
  ])('refuses custom_password_hash %j', async (fields, message) => {
    const res = await create({ email: email('badhash'), password: undefined, ...fields });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ statusCode: 400, error: 'Bad Request', message, errorCode: 'invalid_body' });
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
