import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { api, form } from '../../helpers/http.js';

const CONNECTION = 'Username-Password-Authentication';
const STRONG = 'correct-horse-battery-staple-42';

describe.each(testBackends())('POST /dbconnections/signup on $name', (backend) => {
  let t: TestApp;
  let make: Factories;
  let client: Client;
  let token: string;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    make = createFactories(t.deps);
    client = await make.client({ appType: 'spa', grantTypes: ['password'] });
    await make.enableConnection(client.clientId);
    token = await t.managementToken();
  });
  afterAll(async () => {
    await t.close();
  });

  const signup = (body: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url: '/dbconnections/signup', payload: body });

  async function logTypes(): Promise<{ type: string; user_name?: string; description?: string }[]> {
    await t.deps.events.flush();
    const res = await api(t.app, { method: 'GET', url: '/api/v2/logs?per_page=100', token });
    return res.json();
  }

  it('creates the user through the Management path and answers Auth0 sign-up body (JSON)', async () => {
    const res = await signup({
      client_id: client.clientId,
      connection: CONNECTION,
      email: 'New.User@Example.com',
      password: STRONG,
      given_name: 'New',
      user_metadata: { plan: 'free' },
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{ _id: string }>();
    expect(body).toEqual({
      _id: expect.stringMatching(/^[0-9a-f]{24}$/),
      email: 'new.user@example.com',
      email_verified: false,
      given_name: 'New',
      name: 'new.user@example.com',
      nickname: 'new.user',
      user_metadata: { plan: 'free' },
    });
    const user = await api(t.app, {
      method: 'GET',
      url: `/api/v2/users/${encodeURIComponent(`auth0|${body._id}`)}`,
      token,
    });
    expect(user.statusCode).toBe(200);
    expect(user.json()).toMatchObject({
      email: 'new.user@example.com',
      identities: [{ connection: CONNECTION }],
    });
    expect(await logTypes()).toContainEqual(
      expect.objectContaining({ type: 'ss', user_name: 'new.user@example.com' }),
    );
  });

  it('accepts a form body, as auth0.js may send it', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/dbconnections/signup',
      ...form({
        client_id: client.clientId,
        connection: CONNECTION,
        email: 'form@example.com',
        password: STRONG,
      }),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ email: 'form@example.com', email_verified: false });
  });

  it('answers user_exists for an address already signed up', async () => {
    const existing = await make.user({ email: 'taken@example.com' });
    const res = await signup({
      client_id: client.clientId,
      connection: CONNECTION,
      email: existing.email,
      password: STRONG,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      name: 'BadRequestError',
      code: 'user_exists',
      description: 'The user already exists.',
      statusCode: 400,
    });
    expect((await logTypes()).map((e) => e.type)).toContain('fs');
  });

  it('answers PasswordStrengthError with the rules the password breaks', async () => {
    const res = await signup({
      client_id: client.clientId,
      connection: CONNECTION,
      email: 'weak@example.com',
      password: 'short',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      name: 'PasswordStrengthError',
      message: 'Password is too weak',
      code: 'invalid_password',
      description: {
        rules: [{ message: 'At least 12 characters in length', verified: false }],
        verified: false,
      },
      policy: '* At least 12 characters in length',
      statusCode: 400,
    });
  });

  it('refuses a common password (the default directory has the dictionary on)', async () => {
    const res = await signup({
      client_id: client.clientId,
      connection: CONNECTION,
      email: 'common@example.com',
      password: 'password1234',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ name: 'PasswordDictionaryError', code: 'password_dictionary_error' });
  });

  it('honours disable_signup', async () => {
    const other = await make.client();
    const connection = await t.deps.store.connections.findByName(CONNECTION);
    if (!connection) throw new Error('no connection');
    await t.deps.store.connections.insert({
      ...connection,
      id: 'con_closed000000001',
      name: 'closed-db',
      options: { ...connection.options, disable_signup: true },
      enabledClients: [other.clientId],
    });
    const res = await signup({
      client_id: other.clientId,
      connection: 'closed-db',
      email: 'x@example.com',
      password: STRONG,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      name: 'BadRequestError',
      code: 'operation_not_allowed',
      description: 'Public signup is disabled',
      statusCode: 400,
    });
  });

  it('honours requires_username', async () => {
    const other = await make.client();
    const connection = await t.deps.store.connections.findByName(CONNECTION);
    if (!connection) throw new Error('no connection');
    await t.deps.store.connections.insert({
      ...connection,
      id: 'con_usernames000001',
      name: 'username-db',
      options: { ...connection.options, requires_username: true },
      enabledClients: [other.clientId],
    });
    const missing = await signup({
      client_id: other.clientId,
      connection: 'username-db',
      email: 'u@example.com',
      password: STRONG,
    });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ code: 'invalid_signup' });
    const ok = await signup({
      client_id: other.clientId,
      connection: 'username-db',
      email: 'u@example.com',
      username: 'jdoe',
      password: STRONG,
    });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ username: 'jdoe', email: 'u@example.com' });
  });

  it('refuses a connection not enabled for the client, and an unknown client', async () => {
    const stranger = await make.client();
    const notEnabled = await signup({
      client_id: stranger.clientId,
      connection: CONNECTION,
      email: 'n@example.com',
      password: STRONG,
    });
    expect(notEnabled.statusCode).toBe(400);
    expect(notEnabled.json()).toEqual({
      name: 'BadRequestError',
      code: 'invalid_connection',
      description: 'The connection does not exist or is not enabled for this client.',
      statusCode: 400,
    });
    const unknown = await signup({
      client_id: 'no-such-client',
      connection: CONNECTION,
      email: 'n@example.com',
      password: STRONG,
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toEqual({
      name: 'BadRequestError',
      code: 'invalid_client',
      description: 'Unknown client.',
      statusCode: 400,
    });
    const users = await api(t.app, {
      method: 'GET',
      url: '/api/v2/users-by-email?email=n%40example.com',
      token,
    });
    expect(users.json()).toEqual([]);
  });

  it('answers missing parameters in its own error shape', async () => {
    const res = await signup({ client_id: client.clientId, connection: CONNECTION, password: STRONG });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      name: 'BadRequestError',
      code: 'invalid_body',
      description: 'Missing required parameter: email',
      statusCode: 400,
    });
  });
});

describe('sign-up failures count against the address', () => {
  it('refuses with 429 once the per-address failure limit is used up', async () => {
    const t = await buildTestApp(undefined, {}, { failedAuthLimit: { limit: 2, windowSeconds: 60 } });
    try {
      const body = { client_id: 'nobody', connection: CONNECTION, email: 'a@example.com', password: STRONG };
      for (let i = 0; i < 2; i++) {
        const res = await t.app.inject({
          method: 'POST',
          url: '/dbconnections/signup',
          payload: body,
          remoteAddress: '203.0.113.9',
        });
        expect(res.statusCode).toBe(400);
      }
      const refused = await t.app.inject({
        method: 'POST',
        url: '/dbconnections/signup',
        payload: body,
        remoteAddress: '203.0.113.9',
      });
      expect(refused.statusCode).toBe(429);
      expect(refused.json()).toMatchObject({ code: 'too_many_attempts', statusCode: 429 });
      const elsewhere = await t.app.inject({
        method: 'POST',
        url: '/dbconnections/signup',
        payload: body,
        remoteAddress: '203.0.113.10',
      });
      expect(elsewhere.statusCode).toBe(400);
    } finally {
      await t.close();
    }
  });
});
