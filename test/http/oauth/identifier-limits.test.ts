import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import {
  BOOTSTRAP_CLIENT_ID,
  BOOTSTRAP_CLIENT_SECRET,
  buildTestApp,
  type TestApp,
} from '../../helpers/build-test-app.js';
import { api, clientCredentials, form } from '../../helpers/http.js';

const BOOTSTRAP = { clientId: BOOTSTRAP_CLIENT_ID, clientSecret: BOOTSTRAP_CLIENT_SECRET };

describe.each(testBackends())('identifier lengths at the token endpoint on $name', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    // Fills the caches with what a legitimate request reads: the client, the Management API, its grant.
    await t.managementToken();
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses 60 KB audiences at once, answering in a few bytes and caching nothing (issue 9 memory attack)', async () => {
    const before = t.deps.lookups.sizes();
    for (let i = 0; i < 200; i += 1) {
      const audience = `https://${String(i)}.example/${'a'.repeat(60 * 1024)}`;
      const res = await clientCredentials(t.app, BOOTSTRAP, audience);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        error: 'invalid_request',
        error_description: 'Invalid parameter: audience must be at most 600 characters',
      });
      expect(res.body.length).toBeLessThan(120);
    }
    expect(t.deps.lookups.sizes()).toEqual(before);
  });

  it('answers unknown audiences within the cap with 403, echoing at most 600 characters and caching none', async () => {
    const before = t.deps.lookups.sizes();
    for (let i = 0; i < 200; i += 1) {
      const audience = `https://${String(i).padStart(3, '0')}.example/${'b'.repeat(600 - 20)}`;
      expect(audience).toHaveLength(600);
      const res = await clientCredentials(t.app, BOOTSTRAP, audience);
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual({
        error: 'access_denied',
        error_description: `Service not enabled within domain: ${audience}`,
      });
    }
    expect(t.deps.lookups.sizes()).toEqual(before);
  });

  it('serves an API whose identifier is exactly 600 characters, the longest Auth0 allows', async () => {
    const identifier = `https://long.example/${'c'.repeat(600 - 21)}`;
    const created = await api(t.app, {
      method: 'POST',
      url: '/api/v2/resource-servers',
      token: await t.managementToken(),
      body: { name: 'Long', identifier },
    });
    expect(created.statusCode).toBe(201);
    await api(t.app, {
      method: 'POST',
      url: '/api/v2/client-grants',
      token: await t.managementToken(),
      body: { client_id: BOOTSTRAP_CLIENT_ID, audience: identifier, scope: [] },
    });
    const res = await clientCredentials(t.app, BOOTSTRAP, identifier);
    expect(res.statusCode).toBe(200);
    const tooLong = await clientCredentials(t.app, BOOTSTRAP, `${identifier}c`);
    expect(tooLong.statusCode).toBe(400);
  });

  it.each([
    ['resource', 601, { resource: 'r'.repeat(601) }],
    ['realm', 129, { grant_type: 'password', realm: 'r'.repeat(129), username: 'u', password: 'p' }],
    ['grant_type', 129, { grant_type: 'g'.repeat(129) }],
  ])('refuses a %s longer than its cap without echoing it', async (name, length, extra) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({
        grant_type: 'client_credentials',
        client_id: BOOTSTRAP_CLIENT_ID,
        client_secret: BOOTSTRAP_CLIENT_SECRET,
        ...extra,
      }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'invalid_request',
      error_description: `Invalid parameter: ${name} must be at most ${String(length - 1)} characters`,
    });
  });

  it.each(['/oauth/token', '/oauth/revoke'])(
    'answers a 60 KB client_id at %s with a short invalid_client, without echoing it',
    async (url) => {
      const res = await t.app.inject({
        method: 'POST',
        url,
        ...form({
          grant_type: 'client_credentials',
          client_id: 'c'.repeat(60 * 1024),
          client_secret: 'x',
          token: 't',
        }),
      });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({
        error: 'invalid_client',
        error_description: 'Client authentication failed',
      });
    },
  );
});
