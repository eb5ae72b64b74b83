import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { api } from '../../helpers/http.js';

/**
 * PATCH reads a row, changes some fields and writes it back. Concurrent PATCHes of different fields must all
 * land: without a locked read, the last writer puts back what the others changed (lost update).
 */
describe.each(testBackends())('concurrent PATCHes of different fields on $name', (backend) => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    token = await t.managementToken();
  });
  afterAll(async () => {
    await t.close();
  });

  /** Sends every body as its own PATCH at once and checks each answered 200. */
  async function patchAll(url: string, bodies: readonly object[]): Promise<void> {
    const results = await Promise.all(
      bodies.map((body) => api(t.app, { method: 'PATCH', url, token, body })),
    );
    expect(results.filter((r) => r.statusCode !== 200).map((r) => r.body)).toEqual([]);
  }

  it('keeps every user_metadata and app_metadata key', async () => {
    const created = await api(t.app, {
      method: 'POST',
      url: '/api/v2/users',
      token,
      body: {
        connection: 'Username-Password-Authentication',
        email: 'racer@example.com',
        password: 'Correct-Horse-9',
      },
    });
    const userId = created.json<{ user_id: string }>().user_id;
    const url = `/api/v2/users/${encodeURIComponent(userId)}`;
    const keys = Array.from({ length: 8 }, (_, i) => `k${i}`);
    await patchAll(url, [
      ...keys.map((k) => ({ user_metadata: { [k]: k } })),
      ...keys.map((k) => ({ app_metadata: { [k]: k } })),
      // A password change hashes for tens of milliseconds in the middle of the others.
      { password: 'Another-Horse-10' },
    ]);
    const user = (await api(t.app, { method: 'GET', url, token })).json<{
      user_metadata: Record<string, string>;
      app_metadata: Record<string, string>;
    }>();
    const expected = Object.fromEntries(keys.map((k) => [k, k]));
    expect(user.user_metadata).toEqual(expected);
    expect(user.app_metadata).toEqual(expected);
  });

  it('keeps every field of an application', async () => {
    const created = await api(t.app, {
      method: 'POST',
      url: '/api/v2/clients',
      token,
      body: { name: 'racer' },
    });
    const clientId = created.json<{ client_id: string }>().client_id;
    const url = `/api/v2/clients/${clientId}`;
    await patchAll(url, [
      { name: 'renamed' },
      { description: 'described' },
      { logo_uri: 'https://example.com/logo.png' },
      { callbacks: ['https://example.com/cb'] },
      { web_origins: ['https://example.com'] },
      { is_first_party: false },
      { client_metadata: { tier: 'gold' } },
    ]);
    const [patched, rotated] = await Promise.all([
      api(t.app, { method: 'PATCH', url, token, body: { description: 'again' } }),
      api(t.app, { method: 'POST', url: `${url}/rotate-secret`, token }),
    ]);
    expect([patched.statusCode, rotated.statusCode]).toEqual([200, 200]);
    const client = (await api(t.app, { method: 'GET', url, token })).json<Record<string, unknown>>();
    expect(client).toMatchObject({
      name: 'renamed',
      description: 'again',
      logo_uri: 'https://example.com/logo.png',
      callbacks: ['https://example.com/cb'],
      web_origins: ['https://example.com'],
      is_first_party: false,
      client_metadata: { tier: 'gold' },
      client_secret: rotated.json<{ client_secret: string }>().client_secret,
    });
  });

  it('keeps every field of an API', async () => {
    const created = await api(t.app, {
      method: 'POST',
      url: '/api/v2/resource-servers',
      token,
      body: { name: 'racer', identifier: 'https://racer.example.com/' },
    });
    const url = `/api/v2/resource-servers/${created.json<{ id: string }>().id}`;
    await patchAll(url, [
      { name: 'renamed' },
      { token_lifetime: 3600 },
      { allow_offline_access: true },
      { enforce_policies: true },
      { skip_consent_for_verifiable_first_party_clients: true },
      { scopes: [{ value: 'read:racer' }] },
      { subject_type_authorization: { user: { policy: 'deny_all' } } },
    ]);
    expect((await api(t.app, { method: 'GET', url, token })).json()).toMatchObject({
      name: 'renamed',
      token_lifetime: 3600,
      allow_offline_access: true,
      enforce_policies: true,
      skip_consent_for_verifiable_first_party_clients: true,
      scopes: [{ value: 'read:racer' }],
      subject_type_authorization: { user: { policy: 'deny_all' } },
    });
  });

  it('keeps every field of a client grant', async () => {
    await api(t.app, {
      method: 'POST',
      url: '/api/v2/resource-servers',
      token,
      body: {
        name: 'granted',
        identifier: 'https://granted.example.com/',
        scopes: [{ value: 'read:granted' }, { value: 'write:granted' }],
      },
    });
    const client = await api(t.app, {
      method: 'POST',
      url: '/api/v2/clients',
      token,
      body: { name: 'grantee' },
    });
    const grant = await api(t.app, {
      method: 'POST',
      url: '/api/v2/client-grants',
      token,
      body: {
        client_id: client.json<{ client_id: string }>().client_id,
        audience: 'https://granted.example.com/',
        scope: [],
      },
    });
    const url = `/api/v2/client-grants/${grant.json<{ id: string }>().id}`;
    await patchAll(url, [
      { scope: ['read:granted'] },
      { organization_usage: 'allow' },
      { allow_any_organization: true },
      { organization_usage: 'allow' },
      { allow_any_organization: true },
      { scope: ['read:granted'] },
    ]);
    const after = await api(t.app, {
      method: 'GET',
      url: `/api/v2/client-grants?audience=${encodeURIComponent('https://granted.example.com/')}`,
      token,
    });
    expect(after.json()).toMatchObject([
      { scope: ['read:granted'], organization_usage: 'allow', allow_any_organization: true },
    ]);
  });

  it('keeps every field of a connection', async () => {
    const client = await api(t.app, {
      method: 'POST',
      url: '/api/v2/clients',
      token,
      body: { name: 'member' },
    });
    const clientId = client.json<{ client_id: string }>().client_id;
    const created = await api(t.app, {
      method: 'POST',
      url: '/api/v2/connections',
      token,
      body: { name: 'racers', strategy: 'auth0' },
    });
    const url = `/api/v2/connections/${created.json<{ id: string }>().id}`;
    await patchAll(url, [
      { display_name: 'Racers' },
      { metadata: { tier: 'gold' } },
      { enabled_clients: [clientId] },
      { options: { passwordPolicy: 'fair' } },
    ]);
    expect((await api(t.app, { method: 'GET', url, token })).json()).toMatchObject({
      display_name: 'Racers',
      metadata: { tier: 'gold' },
      enabled_clients: [clientId],
      options: { passwordPolicy: 'fair' },
    });
  });

  it('keeps every tenant setting and flag', async () => {
    await patchAll('/api/v2/tenants/settings', [
      { friendly_name: 'Racers' },
      { support_email: 'help@example.com' },
      { support_url: 'https://example.com/help' },
      { picture_url: 'https://example.com/logo.png' },
      { flags: { racer_one: true } },
      { flags: { racer_two: true } },
    ]);
    const settings = (await api(t.app, { method: 'GET', url: '/api/v2/tenants/settings', token })).json<{
      flags: Record<string, boolean>;
    }>();
    expect(settings).toMatchObject({
      friendly_name: 'Racers',
      support_email: 'help@example.com',
      support_url: 'https://example.com/help',
      picture_url: 'https://example.com/logo.png',
    });
    expect(settings.flags).toMatchObject({ racer_one: true, racer_two: true });
  });

  it('keeps both the name and the description of a role', async () => {
    const created = await api(t.app, {
      method: 'POST',
      url: '/api/v2/roles',
      token,
      body: { name: 'racer' },
    });
    const url = `/api/v2/roles/${created.json<{ id: string }>().id}`;
    await patchAll(url, [{ name: 'renamed' }, { description: 'described' }]);
    expect((await api(t.app, { method: 'GET', url, token })).json()).toMatchObject({
      name: 'renamed',
      description: 'described',
    });
  });
});
