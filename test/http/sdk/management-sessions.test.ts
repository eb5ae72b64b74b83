import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { authorize, CookieJar, loginThroughPage } from '../../helpers/authorize.js';
import { createFactories } from '../../helpers/factories.js';
import { collect, startSdkServer, type SdkServer } from '../../helpers/sdk.js';

const CALLBACK = 'https://app.example.com/callback';

// auth0 v7's ManagementClient against a listening server: Auth0's session endpoints.
describe.each(testBackends())('auth0 v7 ManagementClient: sessions on $name', (backend) => {
  let s: SdkServer;
  beforeAll(async () => {
    s = await startSdkServer(backend);
  });
  afterAll(async () => {
    await s.close();
  });

  it('users.sessions.list/delete and sessions.get/delete', async () => {
    const make = createFactories(s.t.deps);
    const client = await make.client({
      appType: 'regular_web',
      grantTypes: ['authorization_code'],
      settings: { callbacks: [CALLBACK] },
    });
    await make.enableConnection(client.clientId);
    const user = await make.user();
    const signIn = async () => {
      const jar = new CookieJar();
      const start = await authorize(
        s.t.app,
        { client_id: client.clientId, redirect_uri: CALLBACK, response_type: 'code', scope: 'openid' },
        jar,
      );
      const { result } = await loginThroughPage(s.t.app, String(start.headers['location']), jar, {
        username: user.email ?? '',
        password: 'Pass-word-123',
      });
      expect(result.statusCode).toBe(302);
    };
    for (let i = 0; i < 3; i += 1) await signIn();
    const m = s.management;

    const sessions = await collect(await m.users.sessions.list(user.userId, { take: 2 }));
    const path = `/api/v2/users/${encodeURIComponent(user.userId)}/sessions`;
    // The SDK pages by checkpoint, always sending include_totals=true, and follows `next`.
    expect(s.sent).toEqual([
      `GET ${path}?include_totals=true&take=2`,
      expect.stringMatching(new RegExp(`^GET ${path}\\?include_totals=true&from=[\\w-]+&take=2$`)),
    ]);
    expect(sessions).toHaveLength(3);
    expect(sessions.map((x) => x.user_id)).toEqual([user.userId, user.userId, user.userId]);
    const [first] = sessions;
    expect(await m.sessions.get(first?.id ?? '')).toEqual(first);

    await m.sessions.delete(first?.id ?? '');
    expect(await collect(await m.users.sessions.list(user.userId))).toHaveLength(2);
    await m.users.sessions.delete(user.userId);
    expect(await collect(await m.users.sessions.list(user.userId))).toEqual([]);
  });
});
