import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { createFactories } from '../../helpers/factories.js';
import { collect, startSdkServer, type SdkServer } from '../../helpers/sdk.js';

// auth0 v7's ManagementClient against a listening server: Auth0's refresh-token endpoints (issue 9).
describe.each(testBackends())('auth0 v7 ManagementClient: refresh tokens on $name', (backend) => {
  let s: SdkServer;
  beforeAll(async () => {
    s = await startSdkServer(backend);
  });
  afterAll(async () => {
    await s.close();
  });

  it('users.refreshToken.list/delete and refreshTokens.get/delete', async () => {
    const make = createFactories(s.t.deps);
    const api = await make.api({ allowOfflineAccess: true });
    const client = await make.client({ grantTypes: ['password', 'refresh_token'] });
    await make.enableConnection(client.clientId);
    const user = await make.user();
    const login = () =>
      s.t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        payload: {
          grant_type: 'password',
          client_id: client.clientId,
          client_secret: client.clientSecret,
          username: user.email ?? '',
          password: 'Pass-word-123',
          audience: api.identifier,
          scope: 'offline_access read:things',
        },
      });
    for (let i = 0; i < 3; i += 1) expect((await login()).statusCode).toBe(200);
    const m = s.management;

    const tokens = await collect(await m.users.refreshToken.list(user.userId, { take: 2 }));
    const path = `/api/v2/users/${encodeURIComponent(user.userId)}/refresh-tokens`;
    // The SDK pages by checkpoint, always sending include_totals=true, and follows `next`.
    expect(s.sent).toEqual([
      `GET ${path}?include_totals=true&take=2`,
      expect.stringMatching(new RegExp(`^GET ${path}\\?include_totals=true&from=[\\w-]+&take=2$`)),
    ]);
    expect(tokens).toHaveLength(3);
    expect(tokens.map((x) => x.client_id)).toEqual([client.clientId, client.clientId, client.clientId]);
    const [first] = tokens;
    expect(await m.refreshTokens.get(first?.id ?? '')).toEqual(first);

    await m.refreshTokens.delete(first?.id ?? '');
    expect(await collect(await m.users.refreshToken.list(user.userId))).toHaveLength(2);
    await m.users.refreshToken.delete(user.userId);
    expect(await collect(await m.users.refreshToken.list(user.userId))).toEqual([]);
  });
});
