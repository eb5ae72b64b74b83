import { ManagementClient } from 'auth0';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import {
  BOOTSTRAP_CLIENT_ID,
  BOOTSTRAP_CLIENT_SECRET,
  buildTestApp,
  type TestApp,
} from '../../helpers/build-test-app.js';

// The official SDK (v7) drives a real listening server, so drift from the real client shows up here.
describe.each(testBackends())(
  'the auth0 npm SDK ManagementClient against a listening server on $name',
  (backend) => {
    let t: TestApp;
    let management: ManagementClient;
    beforeAll(async () => {
      t = await buildTestApp(backend);
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const address = t.app.server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      management = new ManagementClient({
        domain: 'latchkey.test',
        clientId: BOOTSTRAP_CLIENT_ID,
        clientSecret: BOOTSTRAP_CLIENT_SECRET,
        // The SDK always speaks https://{domain}; point it at the local http listener.
        fetch: (url: string | URL | Request, init?: RequestInit) =>
          fetch(
            (url instanceof Request ? url.url : url.toString()).replace(
              'https://latchkey.test',
              `http://127.0.0.1:${port}`,
            ),
            init,
          ),
      });
    });
    afterAll(async () => {
      await t.close();
    });

    it('manages resource servers, clients and client grants end to end', async () => {
      const rs = await management.resourceServers.create({
        name: 'SDK API',
        identifier: 'https://sdk.example.com/',
        scopes: [{ value: 'read:x', description: 'Read x' }, { value: 'write:x' }],
      });
      const rsId = rs.id ?? '';
      expect((await management.resourceServers.get(rsId)).identifier).toBe('https://sdk.example.com/');
      const page = await management.resourceServers.list({ include_totals: true, page: 0, per_page: 50 });
      expect(page.data.map((r) => r.identifier)).toContain('https://sdk.example.com/');
      const updated = await management.resourceServers.update(rsId, { token_lifetime: 1200 });
      expect(updated.token_lifetime).toBe(1200);

      const client = await management.clients.create({ name: 'SDK app', app_type: 'non_interactive' });
      const clientId = client.client_id ?? '';
      expect(clientId).toMatch(/^[A-Za-z0-9]{32}$/);
      expect((await management.clients.get(clientId)).name).toBe('SDK app');
      const all = await management.clients.list();
      expect(all.data.map((c) => c.client_id)).toContain(clientId);
      const renamed = await management.clients.update(clientId, { name: 'SDK app v2' });
      expect(renamed.name).toBe('SDK app v2');
      const rotated = await management.clients.rotateSecret(clientId);
      expect(rotated.client_secret).not.toBe(client.client_secret);

      const grant = await management.clientGrants.create({
        client_id: clientId,
        audience: 'https://sdk.example.com/',
        scope: ['read:x'],
      });
      expect(grant).toMatchObject({ client_id: clientId, scope: ['read:x'] });
      const grantId = grant.id ?? '';
      const grants = await management.clientGrants.list({ audience: 'https://sdk.example.com/' });
      expect(grants.data.map((g) => g.id)).toEqual([grantId]);
      const changed = await management.clientGrants.update(grantId, { scope: ['read:x', 'write:x'] });
      expect(changed.scope).toEqual(['read:x', 'write:x']);

      await management.clientGrants.delete(grantId);
      await management.clients.delete(clientId);
      await management.resourceServers.delete(rsId);
      await expect(management.resourceServers.get(rsId)).rejects.toMatchObject({
        statusCode: 404,
        body: { errorCode: 'inexistent_resource_server' },
      });
    });
  },
);
