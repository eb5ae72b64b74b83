import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { createFactories } from '../../helpers/factories.js';
import { collect, startSdkServer, type SdkServer } from '../../helpers/sdk.js';

// auth0 v7's ManagementClient against a listening server: Auth0's tenant logs (issue 9).
describe.each(testBackends())('auth0 v7 ManagementClient: logs on $name', (backend) => {
  let s: SdkServer;
  beforeAll(async () => {
    s = await startSdkServer(backend);
  });
  afterAll(async () => {
    await s.close();
  });

  it('logs.list with search, logs.get and users.logs.list', async () => {
    const make = createFactories(s.t.deps);
    const client = await make.client({ grantTypes: ['password'] });
    await make.enableConnection(client.clientId);
    const user = await make.user();
    for (const password of ['wrong-1', 'wrong-2']) {
      const res = await s.t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        payload: {
          grant_type: 'password',
          client_id: client.clientId,
          client_secret: client.clientSecret,
          username: user.email ?? '',
          password,
        },
      });
      expect(res.statusCode).toBe(403);
    }
    await s.t.deps.events.flush();
    const m = s.management;

    const failed = await collect(await m.logs.list({ search: 'type:fp', per_page: 1 }));
    // The SDK sends page, per_page and include_totals=true, and follows pages until one comes back short.
    expect(s.sent.slice(0, 2)).toEqual([
      'GET /api/v2/logs?page=0&per_page=1&include_totals=true&search=type%3Afp',
      'GET /api/v2/logs?page=1&per_page=1&include_totals=true&search=type%3Afp',
    ]);
    expect(failed.map((e) => [e.type, e.user_id, e.client_id])).toEqual([
      ['fp', user.userId, client.clientId],
      ['fp', user.userId, client.clientId],
    ]);
    const [first] = failed;
    expect(await m.logs.get(first?.log_id ?? '')).toEqual(first);

    s.sent.length = 0;
    const own = await collect(await m.users.logs.list(user.userId));
    expect(s.sent[0]).toBe(
      `GET /api/v2/users/${encodeURIComponent(user.userId)}/logs?page=0&per_page=50&include_totals=true`,
    );
    expect(own.map((e) => e.log_id)).toEqual(failed.map((e) => e.log_id));
  });
});
