import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import type { User } from '../../../src/domain/user.js';
import { testBackends } from '../../helpers/backends.js';
import { buildListeningTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories } from '../../helpers/factories.js';
import { jwtPayload } from '../../helpers/http.js';

// The test server listens on plain http (a local address).
// eslint-disable-next-line @typescript-eslint/no-deprecated
const insecure = { [oauth.allowInsecureRequests]: true } as const;

// oauth4webapi's own DPoP support (its proofs, its nonce handling) against a listening server.
describe.each(testBackends())('oauth4webapi with DPoP on $name', (backend) => {
  let t: TestApp;
  let publicClient: Client;
  let confidential: Client;
  let user: User;
  let as: oauth.AuthorizationServer;

  beforeAll(async () => {
    // The proofs carry the real time: the server's fake clock starts at Date.now() and is not advanced here.
    t = await buildListeningTestApp(backend);
    const make = createFactories(t.deps);
    publicClient = await make.client({
      appType: 'native',
      tokenEndpointAuthMethod: 'none',
      grantTypes: ['password', 'refresh_token'],
    });
    confidential = await make.client({ grantTypes: ['client_credentials'] });
    await make.enableConnection(publicClient.clientId);
    await make.grant({
      clientId: confidential.clientId,
      audience: `${t.issuer}api/v2/`,
      scope: ['read:clients'],
    });
    user = await make.user({ email: 'o4w-dpop@example.com' });
    const issuer = new URL(t.issuer);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
  });
  afterAll(async () => {
    await t.close();
  });

  it('a public client gets a DPoP-bound token after the nonce challenge, reads /userinfo and refreshes with the same key', async () => {
    const client: oauth.Client = { client_id: publicClient.clientId };
    const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    const password = () =>
      oauth.genericTokenEndpointRequest(
        as,
        client,
        oauth.None(),
        'password',
        { username: 'o4w-dpop@example.com', password: 'Pass-word-123', scope: 'openid offline_access' },
        { DPoP, ...insecure },
      );
    // The first answer is use_dpop_nonce; the handle keeps the DPoP-Nonce for the retry.
    const first = await oauth
      .processGenericTokenEndpointResponse(as, client, await password())
      .catch((e: unknown) => e);
    expect(oauth.isDPoPNonceError(first)).toBe(true);
    const tokens = await oauth.processGenericTokenEndpointResponse(as, client, await password());
    expect(tokens.token_type).toBe('dpop');
    const jkt = (jwtPayload(tokens.access_token)['cnf'] as { jkt: string }).jkt;
    expect(jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const info = await oauth.processUserInfoResponse(
      as,
      client,
      user.userId,
      await oauth.userInfoRequest(as, client, tokens.access_token, { DPoP, ...insecure }),
    );
    expect(info.sub).toBe(user.userId);

    // The same token without its proof (as Bearer) is refused.
    const bearer = await oauth.userInfoRequest(as, client, tokens.access_token, insecure);
    expect(bearer.status).toBe(401);
    expect(bearer.headers.get('www-authenticate')).toContain('DPoP');

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token ?? '', {
        DPoP,
        ...insecure,
      }),
    );
    expect(refreshed.token_type).toBe('dpop');
    expect((jwtPayload(refreshed.access_token)['cnf'] as { jkt: string }).jkt).toBe(jkt);
  });

  it('client credentials with DPoP, then the Management API through protectedResourceRequest', async () => {
    const client: oauth.Client = { client_id: confidential.clientId };
    const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    const tokens = await oauth.processClientCredentialsResponse(
      as,
      client,
      await oauth.clientCredentialsGrantRequest(
        as,
        client,
        oauth.ClientSecretPost(confidential.clientSecret),
        { audience: `${t.issuer}api/v2/` },
        { DPoP, ...insecure },
      ),
    );
    expect(tokens.token_type).toBe('dpop');
    const res = await oauth.protectedResourceRequest(
      tokens.access_token,
      'GET',
      new URL(`${t.issuer}api/v2/clients?fields=client_id`),
      undefined,
      undefined,
      { DPoP, ...insecure },
    );
    expect(res.status).toBe(200);
    const clients = (await res.json()) as { client_id: string }[];
    expect(clients.map((c) => c.client_id)).toContain(confidential.clientId);
  });
});
