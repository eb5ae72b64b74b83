import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import { testBackends } from '../../helpers/backends.js';
import {
  BOOTSTRAP_CLIENT_ID,
  buildTestApp,
  MGMT_AUDIENCE,
  type TestApp,
} from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { api, form } from '../../helpers/http.js';

const PASSWORD = 'Pass-word-123';

interface LogView {
  log_id: string;
  date: string;
  type: string;
  description: string;
  client_id?: string;
  client_name?: string;
  user_id?: string;
  user_name?: string;
  connection?: string;
  audience?: string;
  scope?: string;
  ip?: string;
  user_agent?: string;
  hostname?: string;
  details?: Record<string, unknown>;
}

describe.each(testBackends())('tenant logs on $name', (backend) => {
  let t: TestApp;
  let make: Factories;
  let client: Client;
  let apiId: string;
  let token: string;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    make = createFactories(t.deps);
    client = await make.client({
      name: 'Logged App',
      grantTypes: ['client_credentials', 'password', 'refresh_token'],
    });
    await make.enableConnection(client.clientId);
    apiId = (await make.api({ scopes: [{ value: 'read:a' }] })).identifier;
    await make.grant({ clientId: client.clientId, audience: apiId, scope: ['read:a'] });
    token = await t.managementToken();
  });
  afterAll(async () => {
    await t.close();
  });

  const tokenRequest = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
    t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({ client_id: client.clientId, ...fields }),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'user-agent': 'log-test/1.0',
        ...headers,
      },
    });

  /** Every stored event (flushed first), newest first. */
  async function logs(query = '', bearer = token): Promise<LogView[]> {
    await t.deps.events.flush();
    const res = await api(t.app, { method: 'GET', url: `/api/v2/logs?per_page=100${query}`, token: bearer });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<LogView[]>();
  }
  const ofType = async (type: string) => (await logs(`&q=${encodeURIComponent(`type:${type}`)}`)).at(0);

  /** The raw rows, to prove what is not stored anywhere in them. */
  async function rawRows(): Promise<string> {
    await t.deps.events.flush();
    return JSON.stringify(await t.deps.storage.db.selectFrom('logs').selectAll().execute());
  }

  it('records a client-credentials exchange as seccft, readable by id', async () => {
    const res = await tokenRequest({
      grant_type: 'client_credentials',
      client_secret: client.clientSecret,
      audience: apiId,
    });
    expect(res.statusCode).toBe(200);
    const event = await ofType('seccft');
    expect(event).toMatchObject({
      type: 'seccft',
      description: '',
      client_id: client.clientId,
      client_name: 'Logged App',
      audience: apiId,
      scope: 'read:a',
      ip: '127.0.0.1',
      user_agent: 'log-test/1.0',
      hostname: 'localhost',
    });
    expect(event?.log_id).toMatch(/^900\d{53}$/);
    expect(Date.parse(event?.date ?? '')).toBe(t.clock.now());
    const one = await api(t.app, { method: 'GET', url: `/api/v2/logs/${event?.log_id ?? ''}`, token });
    expect(one.json()).toEqual(event);
    const missing = await api(t.app, { method: 'GET', url: '/api/v2/logs/900000', token });
    expect(missing.statusCode).toBe(404);
  });

  it('records a failed client authentication as feccft without the secret presented', async () => {
    const secret = 'wrong-secret-that-must-not-be-logged';
    const res = await tokenRequest({
      grant_type: 'client_credentials',
      client_secret: secret,
      audience: apiId,
    });
    expect(res.statusCode).toBe(401);
    const event = await ofType('feccft');
    expect(event).toMatchObject({ type: 'feccft', description: 'Unauthorized', client_id: client.clientId });
    expect(event?.details).toMatchObject({
      error: 'invalid_client',
      reason: expect.stringContaining('wrong secret'),
    });
    expect(await rawRows()).not.toContain(secret);
  });

  it('records sign-ins: s and sepft on success, fp, fu and f on failure, never the password', async () => {
    const user = await make.user({ email: 'logged.user@example.com' });
    const ok = await tokenRequest({
      grant_type: 'password',
      client_secret: client.clientSecret,
      username: 'logged.user@example.com',
      password: PASSWORD,
      audience: apiId,
    });
    expect(ok.statusCode).toBe(200);
    expect(await ofType('s')).toMatchObject({
      user_id: user.userId,
      user_name: 'logged.user@example.com',
      connection: 'Username-Password-Authentication',
      client_id: client.clientId,
    });
    expect(await ofType('sepft')).toMatchObject({ user_id: user.userId, audience: apiId, scope: 'read:a' });

    const wrong = 'Wrong-Pass-word-456';
    const bad = await tokenRequest({
      grant_type: 'password',
      client_secret: client.clientSecret,
      username: 'logged.user@example.com',
      password: wrong,
    });
    expect(bad.statusCode).toBe(403);
    expect(await ofType('fp')).toMatchObject({
      description: 'Wrong email or password.',
      user_id: user.userId,
      user_name: 'logged.user@example.com',
      details: { error: 'invalid_grant', reason: 'wrong_password' },
    });

    await tokenRequest({
      grant_type: 'password',
      client_secret: client.clientSecret,
      username: 'nobody@example.com',
      password: wrong,
    });
    const unknown = await ofType('fu');
    expect(unknown).toMatchObject({ user_name: 'nobody@example.com', details: { reason: 'unknown_user' } });
    expect(unknown?.user_id).toBeUndefined();

    const blocked = await make.user({ email: 'blocked.user@example.com', blocked: true });
    await tokenRequest({
      grant_type: 'password',
      client_secret: client.clientSecret,
      username: 'blocked.user@example.com',
      password: PASSWORD,
    });
    expect(await ofType('f')).toMatchObject({ user_id: blocked.userId, description: 'user is blocked' });

    const rows = await rawRows();
    expect(rows).not.toContain(PASSWORD);
    expect(rows).not.toContain(wrong);
    expect(rows).not.toContain(ok.json<{ access_token: string }>().access_token);
  });

  it('records refresh-token reuse as ferrt and a revocation as srrt, never the token', async () => {
    const user = await make.user({ email: 'refresh.user@example.com' });
    const native = await make.client({
      appType: 'native',
      tokenEndpointAuthMethod: 'none',
      grantTypes: ['password', 'refresh_token'],
    });
    await make.enableConnection(native.clientId);
    const publicRequest = (fields: Record<string, string>, url = '/oauth/token') =>
      t.app.inject({ method: 'POST', url, ...form({ client_id: native.clientId, ...fields }) });
    const first = await publicRequest({
      grant_type: 'password',
      username: 'refresh.user@example.com',
      password: PASSWORD,
      scope: 'openid offline_access',
    });
    expect(first.statusCode, first.body).toBe(200);
    const refresh = first.json<{ refresh_token: string }>().refresh_token;
    const rotated = await publicRequest({ grant_type: 'refresh_token', refresh_token: refresh });
    expect(rotated.statusCode).toBe(200);
    expect(await ofType('sertft')).toMatchObject({ user_id: user.userId, client_id: native.clientId });
    const reuse = await publicRequest({ grant_type: 'refresh_token', refresh_token: refresh });
    expect(reuse.statusCode).toBe(403);
    expect(await ofType('ferrt')).toMatchObject({
      user_id: user.userId,
      client_id: native.clientId,
      description: 'Unknown or invalid refresh token.',
      details: { error: 'invalid_grant', reason: expect.stringMatching(/^reuse:/) },
    });

    const again = await publicRequest({
      grant_type: 'password',
      username: 'refresh.user@example.com',
      password: PASSWORD,
      scope: 'openid offline_access',
    });
    const live = again.json<{ refresh_token: string }>().refresh_token;
    expect((await publicRequest({ token: live }, '/oauth/revoke')).statusCode).toBe(200);
    expect(await ofType('srrt')).toMatchObject({ user_id: user.userId, client_id: native.clientId });

    const rows = await rawRows();
    for (const secret of [refresh, live, rotated.json<{ refresh_token: string }>().refresh_token]) {
      expect(rows).not.toContain(secret);
    }
  });

  it('records Management writes as sapi (and scp for a password set), refusals as fapi, never a body', async () => {
    const created = await api(t.app, {
      method: 'POST',
      url: '/api/v2/clients',
      token,
      body: { name: 'Made Through API', app_type: 'non_interactive' },
    });
    expect(created.statusCode).toBe(201);
    const secret = created.json<{ client_secret: string }>().client_secret;
    const sapi = await ofType('sapi');
    expect(sapi).toMatchObject({
      description: 'Create a client',
      client_id: BOOTSTRAP_CLIENT_ID,
      details: {
        request: { method: 'post', path: '/api/v2/clients', auth: { client_id: BOOTSTRAP_CLIENT_ID } },
        response: { statusCode: 201 },
      },
    });

    const user = await make.user({ email: 'admin.set@example.com' });
    const newPassword = 'Brand-New-Pass-789';
    const patched = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/users/${encodeURIComponent(user.userId)}`,
      token,
      body: { password: newPassword, connection: 'Username-Password-Authentication' },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(await ofType('scp')).toMatchObject({ user_id: user.userId, client_id: BOOTSTRAP_CLIENT_ID });
    expect((await ofType('sapi'))?.description).toBe('Update a user');

    const weak = await t.managementTokenWith(['read:clients']);
    const refused = await api(t.app, {
      method: 'DELETE',
      url: `/api/v2/users/${encodeURIComponent(user.userId)}`,
      token: weak,
    });
    expect(refused.statusCode).toBe(403);
    expect(await ofType('fapi')).toMatchObject({
      description: 'Delete a user',
      user_id: user.userId,
      details: { response: { statusCode: 403 } },
    });

    const rows = await rawRows();
    expect(rows).not.toContain(secret);
    expect(rows).not.toContain(newPassword);
  });

  it('searches with q or search, sorts, pages with totals and reads from a checkpoint', async () => {
    const all = await logs();
    expect(all.length).toBeGreaterThan(8);
    // Newest first by default; sort=date:1 reverses it.
    const dates = all.map((e) => e.log_id);
    expect(dates).toEqual([...dates].sort().reverse());
    const ascending = await logs('&sort=date:1');
    expect(ascending.map((e) => e.log_id)).toEqual([...dates].reverse());

    const byType = await logs(`&search=${encodeURIComponent('type:fp OR type:fu')}`);
    expect(new Set(byType.map((e) => e.type))).toEqual(new Set(['fp', 'fu']));
    const wildcard = await logs(`&q=${encodeURIComponent('user_name:logged.*')}`);
    expect(wildcard.length).toBeGreaterThan(0);
    expect(wildcard.every((e) => e.user_name?.startsWith('logged.'))).toBe(true);
    const today = new Date(t.clock.now()).toISOString().slice(0, 10);
    expect(await logs(`&q=${encodeURIComponent(`date:[${today} TO *]`)}`)).toHaveLength(all.length);
    expect(await logs(`&q=${encodeURIComponent('date:[* TO 2000-01-01]')}`)).toHaveLength(0);

    const page = await api(t.app, {
      method: 'GET',
      url: '/api/v2/logs?page=1&per_page=3&include_totals=true&fields=type,log_id',
      token,
    });
    expect(page.json()).toEqual({
      start: 3,
      limit: 3,
      length: 3,
      total: all.length,
      logs: all.slice(3, 6).map((e) => ({ log_id: e.log_id, type: e.type })),
    });

    const oldest = ascending[0]?.log_id ?? '';
    const checkpoint = await api(t.app, { method: 'GET', url: `/api/v2/logs?from=${oldest}&take=4`, token });
    expect(checkpoint.json<LogView[]>().map((e) => e.log_id)).toEqual(
      ascending.slice(1, 5).map((e) => e.log_id),
    );
  });

  it.each([
    ['an unknown field', `q=${encodeURIComponent('password:x')}`],
    ['a range on a text field', `q=${encodeURIComponent('type:[a TO b]')}`],
    ['a malformed date', `q=${encodeURIComponent('date:yesterday')}`],
    ['a sort on an unknown field', 'sort=secret:1'],
    ['more than 100 per page', 'per_page=101'],
    ['a page beyond the first 1000 results', 'page=20&per_page=50'],
    ['an unknown parameter', 'include_secrets=true'],
  ])('answers 400 to %s', async (_what, query) => {
    const res = await api(t.app, { method: 'GET', url: `/api/v2/logs?${query}`, token });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
  });

  it("lists one user's events under /users/{id}/logs, with read:logs_users alone", async () => {
    const user = await make.user({ email: 'own.events@example.com' });
    await tokenRequest({
      grant_type: 'password',
      client_secret: client.clientSecret,
      username: 'own.events@example.com',
      password: 'not-it',
    });
    await t.deps.events.flush();
    const reader = await t.managementTokenWith(['read:logs_users']);
    const res = await api(t.app, {
      method: 'GET',
      url: `/api/v2/users/${encodeURIComponent(user.userId)}/logs?include_totals=true`,
      token: reader,
    });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ total: number; logs: LogView[] }>();
    expect(body.total).toBe(1);
    expect(body.logs.map((e) => [e.type, e.user_id])).toEqual([['fp', user.userId]]);
    // read:logs_users does not reach the tenant's whole log.
    expect((await api(t.app, { method: 'GET', url: '/api/v2/logs', token: reader })).statusCode).toBe(403);
  });

  it('deletes events older than the retention period', async () => {
    const before = (await logs()).length;
    expect(before).toBeGreaterThan(0);
    t.clock.advance((t.deps.config.server.logRetentionDays + 1) * 86_400_000);
    await tokenRequest({
      grant_type: 'client_credentials',
      client_secret: client.clientSecret,
      audience: apiId,
    });
    const after = await logs('', await t.managementTokenWith(['read:logs']));
    // Pruning runs with the writes (at most every ten minutes): only today's two exchanges are left.
    expect(after.map((e) => e.type)).toEqual(['seccft', 'seccft']);
    expect(after.every((e) => Date.parse(e.date) === t.clock.now())).toBe(true);
  });
});

describe('tenant logs from the token endpoint', () => {
  it('keeps a management token exchange out of the way of the answer: recording is not awaited', async () => {
    const t = await buildTestApp();
    try {
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        ...form({
          grant_type: 'client_credentials',
          client_id: BOOTSTRAP_CLIENT_ID,
          client_secret: 'bootstrap-secret-0123456789abcdef',
          audience: MGMT_AUDIENCE,
        }),
      });
      expect(res.statusCode).toBe(200);
      // Answered before the batch was written; the flush writes it.
      const unflushed = await t.deps.storage.db.selectFrom('logs').select('type').execute();
      expect(unflushed).toEqual([]);
      await t.deps.events.flush();
      const flushed = await t.deps.storage.db.selectFrom('logs').select('type').execute();
      expect(flushed).toEqual([{ type: 'seccft' }]);
    } finally {
      await t.close();
    }
  });
});

describe.each(testBackends())('lockout events on $name', (backend) => {
  it('records limit_wc when a login name is throttled and limit_mu when an address is', async () => {
    const t = await buildTestApp(
      backend,
      {},
      {
        failedLoginLimits: {
          perIdentifier: { limit: 2, windowSeconds: 3600 },
          perAddress: { limit: 4, windowSeconds: 3600 },
        },
      },
    );
    try {
      const make = createFactories(t.deps);
      const client = await make.client({ grantTypes: ['password'] });
      await make.enableConnection(client.clientId);
      await make.user({ email: 'locked@example.com' });
      const attempt = (username: string) =>
        t.app.inject({
          method: 'POST',
          url: '/oauth/token',
          ...form({
            grant_type: 'password',
            client_id: client.clientId,
            client_secret: client.clientSecret,
            username,
            password: 'wrong-password',
          }),
        });
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await attempt('locked@example.com')).statusCode);
      for (let i = 0; i < 3; i++) statuses.push((await attempt(`other${i}@example.com`)).statusCode);
      expect(statuses).toEqual([403, 403, 429, 403, 429, 429]);
      await t.deps.events.flush();
      const rows = await t.deps.storage.db
        .selectFrom('logs')
        .select(['type', 'user_name'])
        .where('type', 'in', ['fp', 'fu', 'limit_wc', 'limit_mu'])
        .orderBy('log_id')
        .execute();
      expect(rows.map((r) => [r.type, r.user_name])).toEqual([
        ['fp', 'locked@example.com'],
        ['fp', 'locked@example.com'],
        ['limit_wc', 'locked@example.com'],
        ['fu', 'other0@example.com'],
        ['limit_mu', 'other1@example.com'],
        ['limit_mu', 'other2@example.com'],
      ]);
    } finally {
      await t.close();
    }
  });
});
