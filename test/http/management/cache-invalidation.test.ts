import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { api, clientCredentials } from '../../helpers/http.js';

// The token endpoint reads clients through the node's cache. A secret changed behind the cache's back (straight
// in storage) shows whether a Management write cleared it: the old secret works until it is cleared.
describe.each(testBackends())('Management writes and the token endpoint cache on $name', (backend) => {
  let t: TestApp;
  let make: Factories;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    make = createFactories(t.deps);
  });
  afterAll(async () => {
    await t.close();
  });

  async function cachedClientWithSecretChangedInStorage() {
    const apiRecord = await make.api();
    const client = await make.client();
    await make.grant({ clientId: client.clientId, audience: apiRecord.identifier, scope: ['read:things'] });
    expect((await clientCredentials(t.app, client, apiRecord.identifier)).statusCode).toBe(200);
    await t.deps.store.clients.update({ ...client, clientSecret: 'changed-in-storage-0123456789abcdef' });
    const oldSecretStatus = async () =>
      (await clientCredentials(t.app, client, apiRecord.identifier)).statusCode;
    expect(await oldSecretStatus()).toBe(200);
    return { client, oldSecretStatus };
  }

  it('keeps the cache through writes that change nothing it holds (a user PATCH)', async () => {
    const token = await t.managementToken();
    const { oldSecretStatus } = await cachedClientWithSecretChangedInStorage();
    const user = await make.user();
    const patched = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/users/${encodeURIComponent(user.userId)}`,
      token,
      body: { user_metadata: { theme: 'dark' } },
    });
    expect(patched.statusCode).toBe(200);
    expect(await oldSecretStatus()).toBe(200);
  });

  it('clears the cache on a client PATCH', async () => {
    const token = await t.managementToken();
    const { client, oldSecretStatus } = await cachedClientWithSecretChangedInStorage();
    const patched = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/clients/${client.clientId}`,
      token,
      body: { name: 'Renamed' },
    });
    expect(patched.statusCode).toBe(200);
    expect(await oldSecretStatus()).toBe(401);
  });

  it('keeps the cache when a client PATCH fails', async () => {
    const token = await t.managementToken();
    const { client, oldSecretStatus } = await cachedClientWithSecretChangedInStorage();
    const refused = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/clients/${client.clientId}`,
      token,
      body: { no_such_field: true },
    });
    expect(refused.statusCode).toBe(400);
    expect(await oldSecretStatus()).toBe(200);
  });

  it.each([
    ['POST', '/api/v2/resource-servers', { identifier: 'https://cache-test.example.com/' }],
    ['PATCH', '/api/v2/tenants/settings', { friendly_name: 'Cache test' }],
  ] as const)('clears the cache on %s %s', async (method, url, body) => {
    const token = await t.managementToken();
    const { oldSecretStatus } = await cachedClientWithSecretChangedInStorage();
    const res = await api(t.app, { method, url, token, body });
    expect(res.statusCode).toBeLessThan(300);
    expect(await oldSecretStatus()).toBe(401);
  });
});
