import { hash as bcryptHash } from '@node-rs/bcrypt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { api } from '../../helpers/http.js';

const DB = 'Username-Password-Authentication';
let n = 0;
const email = (tag = 'p') => `${tag}.${Date.now()}.${n++}@example.com`;
const refused = (message: string) => ({
  statusCode: 400,
  error: 'Bad Request',
  message,
  errorCode: 'invalid_body',
});
const TOO_WEAK = refused('PasswordStrengthError: Password is too weak');
const TOO_COMMON = refused('PasswordDictionaryError: Password is too common');
const PERSONAL = refused('PasswordNoUserInfoError: Password contains user information');
const USED = refused('PasswordHistoryError: Password has previously been used');

describe.each(testBackends())('connection password options on $name', (backend) => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    token = await t.managementToken();
  });
  afterAll(async () => {
    await t.close();
  });

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown) =>
    api(t.app, { method, url, token, ...(body !== undefined ? { body } : {}) });
  const createUser = (body: Record<string, unknown>, connection = DB) =>
    call('POST', '/api/v2/users', { connection, email: email(), ...body });
  const connectionNamed = async (name: string, options: Record<string, unknown>) => {
    const res = await call('POST', '/api/v2/connections', { name, strategy: 'auth0', options });
    expect(res.statusCode).toBe(201);
    return res.json<{ id: string; name: string }>();
  };

  it('refuses Passw0rd and takes "correct horse battery staple" in a fresh tenant’s default directory', async () => {
    const weak = await createUser({ password: 'Passw0rd' });
    expect(weak.statusCode).toBe(400);
    expect(weak.json()).toEqual(TOO_WEAK);
    expect((await createUser({ password: 'correct horse battery staple' })).statusCode).toBe(201);
  });

  it('refuses common passwords and the connection’s own words, case-insensitively', async () => {
    const common = await createUser({ password: 'Qwerty123456' });
    expect(common.statusCode).toBe(400);
    expect(common.json()).toEqual(TOO_COMMON);
    const conn = await connectionNamed('dictionary-db', {
      passwordPolicy: 'none',
      password_dictionary: { enable: true, dictionary: ['Latchkey-Rocks'] },
    });
    expect((await createUser({ password: 'latchkey-rocks' }, conn.name)).json()).toEqual(TOO_COMMON);
    expect((await createUser({ password: 'password' }, conn.name)).json()).toEqual(TOO_COMMON);
    expect((await createUser({ password: 'latchkey-rolls' }, conn.name)).statusCode).toBe(201);
  });

  it('refuses personal data on creation and on a change, counting a name changed in the same request', async () => {
    const res = await createUser({ email: 'marguerite.d@example.com', password: 'marguerite.d-1234' });
    expect(res.json()).toEqual(PERSONAL);
    const created = (await createUser({ name: 'Ada Lovelace', password: 'engine-analytical-1843' })).json<{
      user_id: string;
    }>();
    const url = `/api/v2/users/${encodeURIComponent(created.user_id)}`;
    expect((await call('PATCH', url, { password: 'lovelace-engine-1843' })).json()).toEqual(PERSONAL);
    expect(
      (await call('PATCH', url, { name: 'Grace Hopper', password: 'hopper-cobol-1959' })).json(),
    ).toEqual(PERSONAL);
    expect(
      (await call('PATCH', url, { name: 'Grace Hopper', password: 'lovelace-engine-1843' })).statusCode,
    ).toBe(200);
  });

  it('refuses the last passwords (password_history) and keeps only as many as it needs', async () => {
    const conn = await connectionNamed('history-db', {
      passwordPolicy: 'low',
      password_history: { enable: true, size: 3 },
    });
    const user = (await createUser({ password: 'first-secret' }, conn.name)).json<{ user_id: string }>();
    const url = `/api/v2/users/${encodeURIComponent(user.user_id)}`;
    const change = async (password: string) => {
      const res = await call('PATCH', url, { password });
      return res.statusCode === 200 ? 'changed' : res.json<unknown>();
    };
    expect(await change('first-secret')).toEqual(USED);
    expect(await change('second-secret')).toBe('changed');
    expect(await change('third-secret')).toBe('changed');
    // first, second and third are the last three.
    expect(await change('first-secret')).toEqual(USED);
    expect(await change('fourth-secret')).toBe('changed');
    expect(await change('first-secret')).toBe('changed');
    const identity = { provider: 'auth0', userId: user.user_id.slice('auth0|'.length) };
    expect(await t.deps.store.passwordHistory.recent(identity, 24)).toHaveLength(2);
    expect((await call('DELETE', url)).statusCode).toBe(204);
    expect(await t.deps.store.passwordHistory.recent(identity, 24)).toEqual([]);
  });

  it('keeps no history while password_history is off', async () => {
    const created = (await createUser({ password: 'a-first-passphrase' })).json<{ user_id: string }>();
    const url = `/api/v2/users/${encodeURIComponent(created.user_id)}`;
    expect((await call('PATCH', url, { password: 'a-second-passphrase' })).statusCode).toBe(200);
    expect((await call('PATCH', url, { password: 'a-first-passphrase' })).statusCode).toBe(200);
    const identity = { provider: 'auth0', userId: created.user_id.slice('auth0|'.length) };
    expect(await t.deps.store.passwordHistory.recent(identity, 24)).toEqual([]);
  });

  it.each([
    [{ password_history: { enable: true, size: 25 } }, 'size'],
    [{ password_history: { size: 3 } }, 'enable'],
    [{ password_dictionary: { enable: true, dictionary: 'words' } }, 'dictionary'],
    [{ password_dictionary: { enable: true, dictionary: Array(201).fill('word') } }, 'dictionary'],
    [{ password_no_personal_info: { enable: 'yes' } }, 'enable'],
    [{ password_complexity_options: { min_length: 0 } }, 'min_length'],
  ])('refuses connection options %j', async (options, field) => {
    const res = await call('POST', '/api/v2/connections', { name: `bad-${n++}`, strategy: 'auth0', options });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ errorCode: 'invalid_body', message: expect.stringContaining(field) });
  });

  it('takes null for each password option, as Auth0 does, and then applies none of them', async () => {
    const conn = await connectionNamed('nulls-db', {
      passwordPolicy: null,
      password_complexity_options: null,
      password_dictionary: null,
      password_no_personal_info: null,
      password_history: null,
    });
    expect((await createUser({ password: 'password' }, conn.name)).statusCode).toBe(201);
  });

  it.each([
    [11, 400],
    [10, 201],
  ])('imports a bcrypt custom_password_hash of cost %i with %i', async (cost, status) => {
    const value = await bcryptHash('Imported-Pass-1', cost);
    const res = await createUser({ custom_password_hash: { algorithm: 'bcrypt', hash: { value } } });
    expect(res.statusCode).toBe(status);
    if (status === 400) {
      expect(res.json()).toEqual(
        refused(
          'Payload validation error: custom_password_hash bcrypt cost 11 is above 10, the highest accepted (Auth0 hashes with cost 10); ask the user to reset the password instead.',
        ),
      );
    }
  });
});
