import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { api } from '../../helpers/http.js';

/** Keys a JSON object may hold that a `^.*$` key pattern or a careless serializer gets wrong. */
const ODD_KEYS = [
  'line\nbreak',
  'carriage\rreturn',
  'tab\there',
  'bell\u0007 unit\u001f del\u007f',
  '\u2028line separator\u2029',
  'emoji 😀',
  'astral 𝒳𝔂 family 👩‍👩‍👧',
  'e\u0301 combining, ü composed',
  '  spaces  ',
  '[]{}"\\/:,',
];
/** 255 characters, each outside the Basic Multilingual Plane (510 UTF-16 code units). */
const LONGEST_KEY = '𝒳'.repeat(255);
const odd = (suffix = '') => Object.fromEntries(ODD_KEYS.map((k) => [k + suffix, `${k}=value`]));

describe.each(testBackends())('free-key objects come back exactly on $name', (backend) => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    token = await t.managementToken();
  });
  afterAll(async () => {
    await t.close();
  });
  const call = (method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown) =>
    api(t.app, { method, url, token, ...(body !== undefined ? { body } : {}) });

  describe('user_metadata and app_metadata', () => {
    it('round-trips every key through create, read, list, search, users-by-email and PATCH', async () => {
      const userMetadata = { ...odd(), [LONGEST_KEY]: { ...odd(' nested') }, plain: [{ 'in\narray': 1 }] };
      const appMetadata = { ...odd(), [LONGEST_KEY]: 'longest', tag: 'free-keys' };
      const created = await call('POST', '/api/v2/users', {
        connection: 'Username-Password-Authentication',
        email: 'free.keys@example.com',
        password: 'Strong-Pass-1',
        user_metadata: userMetadata,
        app_metadata: appMetadata,
      });
      expect(created.statusCode).toBe(201);
      const user = created.json<{ user_id: string; user_metadata: unknown; app_metadata: unknown }>();
      const metadata = { user_metadata: userMetadata, app_metadata: appMetadata };
      expect(user).toMatchObject(metadata);
      expect(user.user_metadata).toEqual(userMetadata);
      expect(user.app_metadata).toEqual(appMetadata);

      const id = encodeURIComponent(user.user_id);
      const one = (await call('GET', `/api/v2/users/${id}`)).json<object>();
      expect(one).toEqual(user);
      const search = encodeURIComponent('app_metadata.tag:"free-keys"');
      const list = await call('GET', `/api/v2/users?q=${search}&include_totals=true`);
      expect(list.json()).toEqual({ start: 0, limit: 50, length: 1, total: 1, users: [user] });
      const byEmail = await call('GET', '/api/v2/users-by-email?email=free.keys@example.com');
      expect(byEmail.json()).toEqual([user]);
      const fields = await call('GET', `/api/v2/users/${id}?fields=user_metadata,app_metadata`);
      expect(fields.json()).toEqual(metadata);

      // Auth0 merges metadata one level deep; null removes a key.
      const patched = await call('PATCH', `/api/v2/users/${id}`, {
        user_metadata: { ...odd(' added'), 'line\nbreak': null },
        app_metadata: { 'tab\there': 'replaced' },
      });
      expect(patched.statusCode).toBe(200);
      const { 'line\nbreak': _removed, ...kept } = userMetadata;
      const expected = {
        user_metadata: { ...kept, ...odd(' added') },
        app_metadata: { ...appMetadata, 'tab\there': 'replaced' },
      };
      expect(patched.json()).toMatchObject(expected);
      expect(patched.json<{ user_metadata: object }>().user_metadata).toEqual(expected.user_metadata);
      const reread = await call('GET', `/api/v2/users/${id}?fields=user_metadata,app_metadata`);
      expect(reread.json()).toEqual(expected);
    });

    it.each([
      [
        'a 256-character key',
        { user_metadata: { ['k'.repeat(256)]: 1 } },
        `Payload validation error: 'property name ${JSON.stringify('k'.repeat(256))} must NOT have more than 255 characters' on property user_metadata.`,
      ],
      [
        'a 256-character astral key',
        { app_metadata: { ['𝒳'.repeat(256)]: 1 } },
        `Payload validation error: 'property name ${JSON.stringify('𝒳'.repeat(256))} must NOT have more than 255 characters' on property app_metadata.`,
      ],
      [
        'a dotted key',
        { user_metadata: { 'preference.color': 'pink' } },
        `Payload validation error: 'field names must not contain "." or "$": "preference.color"' on property user_metadata.`,
      ],
      [
        'a nested $ key',
        { user_metadata: { preference: { list: [{ $color: 'pink' }] } } },
        `Payload validation error: 'field names must not contain "." or "$": "$color"' on property user_metadata.preference.list.`,
      ],
      [
        'a reserved app_metadata key',
        { app_metadata: { blocked: true } },
        "Payload validation error: 'blocked is a reserved property name' on property app_metadata.",
      ],
    ])('refuses what Auth0 refuses: %s', async (_case, body, message) => {
      for (const request of [
        call('POST', '/api/v2/users', {
          connection: 'Username-Password-Authentication',
          email: 'refused@example.com',
          password: 'Strong-Pass-1',
          ...body,
        }),
        call('PATCH', '/api/v2/users/auth0%7Cnobody', body),
      ]) {
        const res = await request;
        expect(res.statusCode).toBe(400);
        expect(res.json()).toEqual({
          statusCode: 400,
          error: 'Bad Request',
          message,
          errorCode: 'invalid_body',
        });
      }
    });

    it.each([
      ['user_metadata.😀:x', 'bad field name "user_metadata.😀"'],
      ['user_metadata.tab\\\there:x', 'bad field name "user_metadata.tab\there"'],
      ['_exists_:user_metadata.😀', 'bad metadata path user_metadata.😀'],
      ['_exists_:app_metadata.e\u0301', 'bad metadata path app_metadata.e\u0301'],
    ])('answers a search naming an unsearchable metadata key %j with 400, not 500', async (q, reason) => {
      const res = await call('GET', `/api/v2/users?q=${encodeURIComponent(q)}`);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: `Query validation error: 'invalid query: ${reason}' on property q.`,
        errorCode: 'invalid_query_string',
      });
    });

    it('searches metadata values holding control characters and emoji', async () => {
      await call('POST', '/api/v2/users', {
        connection: 'Username-Password-Authentication',
        email: 'odd.values@example.com',
        password: 'Strong-Pass-1',
        user_metadata: { note: 'a\tb 😀' },
      });
      const res = await call('GET', `/api/v2/users?q=${encodeURIComponent('user_metadata.note:"a\tb 😀"')}`);
      expect(res.statusCode).toBe(200);
      expect(res.json<{ email: string }[]>().map((u) => u.email)).toEqual(['odd.values@example.com']);
    });
  });

  describe('client_metadata', () => {
    // Auth0: key names are alphanumeric plus :,-+=_*?"/\()<>@, tab and space; 255 characters at most.
    const allowed = {
      'tab\tand space': 'v',
      ':,-+=_*?"/\\()<>@': 'punctuation',
      ['k'.repeat(255)]: 'x'.repeat(255),
    };

    it('round-trips every allowed key through create, read, list and PATCH', async () => {
      const created = await call('POST', '/api/v2/clients', { name: 'meta app', client_metadata: allowed });
      expect(created.statusCode).toBe(201);
      const client = created.json<{ client_id: string; client_metadata: unknown }>();
      expect(client.client_metadata).toEqual(allowed);
      const read = await call('GET', `/api/v2/clients/${client.client_id}?fields=client_metadata`);
      expect(read.json()).toEqual({ client_metadata: allowed });
      const list = await call('GET', '/api/v2/clients?fields=client_id,client_metadata');
      expect(list.json()).toContainEqual({ client_id: client.client_id, client_metadata: allowed });
      const patched = await call('PATCH', `/api/v2/clients/${client.client_id}`, {
        client_metadata: { 'other\tkey': 'w' },
      });
      expect(patched.json<{ client_metadata: unknown }>().client_metadata).toEqual({ 'other\tkey': 'w' });
    });

    it.each([
      ['line\nbreak', '^[A-Za-z0-9 \\t:,+=_*?"/\\\\()<>@-]+$'],
      ['emoji 😀', '^[A-Za-z0-9 \\t:,+=_*?"/\\\\()<>@-]+$'],
    ])('refuses the key %j with 400 on create and update', async (key, pattern) => {
      const message = `Payload validation error: 'property name ${JSON.stringify(key)} must match pattern "${pattern}"' on property client_metadata.`;
      const created = await call('POST', '/api/v2/clients', { name: 'x', client_metadata: { [key]: 'v' } });
      const id = (await call('POST', '/api/v2/clients', { name: 'y' })).json<{ client_id: string }>()
        .client_id;
      const patched = await call('PATCH', `/api/v2/clients/${id}`, { client_metadata: { [key]: 'v' } });
      for (const res of [created, patched]) {
        expect(res.statusCode).toBe(400);
        expect(res.json()).toEqual({
          statusCode: 400,
          error: 'Bad Request',
          message,
          errorCode: 'invalid_body',
        });
      }
    });

    it.each([
      [
        'key length',
        { ['k'.repeat(256)]: 'v' },
        `'property name "${'k'.repeat(256)}" must NOT have more than 255 characters'`,
      ],
      [
        'value length',
        { k: 'v'.repeat(256) },
        "'must NOT have more than 255 characters' on property client_metadata.k",
      ],
      ['string values', { 'a\tb': 1 }, "'must be string' on property client_metadata.a\tb"],
      [
        '10 keys',
        Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v'])),
        "'must NOT have more than 10 properties' on property client_metadata",
      ],
    ])('keeps Auth0 limits: %s', async (_case, metadata, reason) => {
      const res = await call('POST', '/api/v2/clients', { name: 'x', client_metadata: metadata });
      expect(res.statusCode).toBe(400);
      expect(res.json<{ message: string }>().message).toContain(reason);
    });
  });

  describe('other objects with free keys', () => {
    it('round-trips client mobile and jwt_configuration.scopes, and resource-server objects', async () => {
      const mobile = { android: { ...odd() }, ...odd() };
      const scopes = { ...odd(), [LONGEST_KEY]: { ...odd(' nested') } };
      const created = await call('POST', '/api/v2/clients', {
        name: 'objects',
        mobile,
        jwt_configuration: { scopes },
      });
      expect(created.statusCode).toBe(201);
      const id = created.json<{ client_id: string }>().client_id;
      const read = await call('GET', `/api/v2/clients/${id}?fields=mobile,jwt_configuration`);
      expect(read.json()).toEqual({
        mobile,
        jwt_configuration: { lifetime_in_seconds: 36_000, secret_encoded: false, alg: 'RS256', scopes },
      });

      const details = [{ type: 'payment', ...odd() }];
      // token_encryption is no free-key object: its key is checked (test/http/oauth/token-encryption.test.ts).
      const rs = await call('POST', '/api/v2/resource-servers', {
        identifier: 'https://objects.example.com/',
        authorization_details: details,
      });
      expect(rs.statusCode).toBe(201);
      const fields = 'fields=authorization_details';
      const url = `/api/v2/resource-servers/${encodeURIComponent('https://objects.example.com/')}?${fields}`;
      expect((await call('GET', url)).json()).toEqual({ authorization_details: details });
    });
  });

  describe('connections', () => {
    it('round-trips odd keys in metadata and in options (nested maps too)', async () => {
      const metadata = { 'line\nbreak': 'a', 'emoji 😀': 'b', [LONGEST_KEY]: 'c' };
      const options = {
        passwordPolicy: 'good',
        brute_force_protection: true,
        requires_username: false,
        ...odd(),
        custom: { ...odd(' nested'), deep: { 'x\ry': [1] } },
      };
      const created = await call('POST', '/api/v2/connections', {
        name: 'free-keys',
        strategy: 'auth0',
        metadata,
        options,
      });
      expect(created.statusCode).toBe(201);
      const conn = created.json<{ id: string }>();
      expect(created.json()).toMatchObject({ metadata, options });
      const read = await call('GET', `/api/v2/connections/${conn.id}?fields=metadata,options`);
      expect(read.json()).toEqual({ metadata, options });
      const list = await call('GET', '/api/v2/connections?name=free-keys&fields=metadata,options');
      expect(list.json()).toEqual([{ metadata, options }]);
      const patched = await call('PATCH', `/api/v2/connections/${conn.id}`, {
        metadata: { 'tab\there': 'd' },
        options: { ...odd(' patched') },
      });
      expect(patched.json()).toMatchObject({ metadata: { 'tab\there': 'd' }, options: odd(' patched') });
    });

    it('checks the value of every metadata key, line breaks included (it was stored and then hidden)', async () => {
      const res = await call('POST', '/api/v2/connections', {
        name: 'bad-meta',
        strategy: 'auth0',
        metadata: { 'line\nbreak': 5 },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: "Payload validation error: 'must be string' on property metadata.line\nbreak.",
        errorCode: 'invalid_body',
      });
    });
  });

  describe('tenant flags', () => {
    it('accepts snake_case flag names as Auth0 has them and refuses others, line breaks included', async () => {
      const ok = await call('PATCH', '/api/v2/tenants/settings', { flags: { remove_alg_from_jwks: false } });
      expect(ok.json()).toMatchObject({ flags: { remove_alg_from_jwks: false } });
      const res = await call('PATCH', '/api/v2/tenants/settings', { flags: { 'line\nbreak': true } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: `Payload validation error: 'property name "line\\nbreak" must match pattern "^[a-z0-9_]+$"' on property flags.`,
        errorCode: 'invalid_body',
      });
      const bad = await call('PATCH', '/api/v2/tenants/settings', { flags: { 'a\tb': 'yes' } });
      expect(bad.statusCode).toBe(400);
      expect((await call('GET', '/api/v2/tenants/settings?fields=flags')).json()).toEqual({
        flags: { enable_idtoken_api2: false, remove_alg_from_jwks: false },
      });
    });
  });
});
