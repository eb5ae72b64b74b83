import { ManagementClient, ManagementError } from 'auth0';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import { testBackends } from '../../helpers/backends.js';
import { MGMT_AUDIENCE } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { jwtPayload } from '../../helpers/http.js';
import { SDK_DOMAIN, startSdkServer, type SdkServer } from '../../helpers/sdk.js';

const PASSWORD = 'Pass-word-123';
const DB = 'Username-Password-Authentication';

// auth0 v7's users.identities.link / delete against a listening server, with the bootstrap client's
// any-user token and with user tokens of the password grant.
describe.each(testBackends())('auth0 v7 ManagementClient: account linking on $name', (backend) => {
  let s: SdkServer;
  let make: Factories;
  let app: Client;
  let apiId: string;
  beforeAll(async () => {
    s = await startSdkServer(backend);
    make = createFactories(s.t.deps);
    app = await make.client({ grantTypes: ['password'] });
    await make.enableConnection(app.clientId);
    apiId = (await make.api()).identifier;
  });
  afterAll(async () => {
    await s.close();
  });

  /** The password grant over HTTP: a current-user Management API token, or an ID token of the same app. */
  async function passwordGrant(email: string, audience: string, scope: string) {
    const res = await s.fetch('https://latchkey.test/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'password',
        username: email,
        password: PASSWORD,
        audience,
        scope,
        client_id: app.clientId,
        client_secret: app.clientSecret,
      }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { access_token: string; id_token?: string };
  }
  const asUser = (token: string) =>
    new ManagementClient({ domain: SDK_DOMAIN, token, fetch: s.fetch, maxRetries: 0 });
  const failure = async (call: Promise<unknown>) => {
    const error = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ManagementError);
    return error as ManagementError;
  };

  it('links and unlinks with update:users (provider and user_id)', async () => {
    const { management: m } = s;
    const primary = await make.user({ email: 'sdk.primary@example.com' });
    const secondary = await make.user({ email: 'sdk.secondary@example.com' });
    const linked = await m.users.identities.link(primary.userId, {
      provider: 'auth0',
      user_id: secondary.userId.slice(6),
    });
    expect(linked).toEqual([
      { connection: DB, user_id: primary.userId.slice(6), provider: 'auth0', isSocial: false },
      {
        connection: DB,
        user_id: secondary.userId.slice(6),
        provider: 'auth0',
        isSocial: false,
        profileData: {
          email: 'sdk.secondary@example.com',
          email_verified: true,
          name: 'Test User',
          given_name: 'Test',
          family_name: 'User',
        },
      },
    ]);
    expect(s.sent.at(-1)).toBe(`POST /api/v2/users/${encodeURIComponent(primary.userId)}/identities`);
    const again = await failure(
      m.users.identities.link(primary.userId, { provider: 'auth0', user_id: secondary.userId.slice(6) }),
    );
    expect(again.statusCode).toBe(409);
    expect(again.body).toMatchObject({ message: 'Specified identity already exists.' });
    expect((await failure(m.users.get(secondary.userId))).statusCode).toBe(404);
    const found = await m.users.listUsersByEmail({ email: 'sdk.secondary@example.com' });
    expect(found.map((u) => u.user_id)).toEqual([primary.userId]);

    const remaining = await m.users.identities.delete(primary.userId, 'auth0', secondary.userId.slice(6));
    expect(remaining).toEqual([linked[0]]);
    expect(s.sent.at(-1)).toBe(
      `DELETE /api/v2/users/${encodeURIComponent(primary.userId)}/identities/auth0/${secondary.userId.slice(6)}`,
    );
    expect(await m.users.get(secondary.userId)).toMatchObject({
      user_id: secondary.userId,
      email: 'sdk.secondary@example.com',
      identities: [
        { connection: DB, user_id: secondary.userId.slice(6), provider: 'auth0', isSocial: false },
      ],
    });
  });

  it('links with link_with and a current-user token of the password grant; refuses other users with 403', async () => {
    const primary = await make.user({ email: 'sdk.me@example.com' });
    const secondary = await make.user({ email: 'sdk.alt@example.com' });
    const stranger = await make.user({ email: 'sdk.stranger@example.com' });
    const { access_token: token } = await passwordGrant(
      'sdk.me@example.com',
      MGMT_AUDIENCE,
      'read:current_user update:current_user_identities',
    );
    expect(jwtPayload(token)).toMatchObject({
      sub: primary.userId,
      scope: 'read:current_user update:current_user_identities',
    });
    const { id_token: idToken } = await passwordGrant('sdk.alt@example.com', apiId, 'openid email');
    const me = asUser(token);

    const denied = await failure(me.users.identities.link(stranger.userId, { link_with: idToken ?? '' }));
    expect(denied.statusCode).toBe(403);
    expect(denied.body).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: 'User to be acted on does not match subject in bearer token.',
      errorCode: 'insufficient_scope',
    });
    const direct = await failure(
      me.users.identities.link(primary.userId, { provider: 'auth0', user_id: secondary.userId.slice(6) }),
    );
    expect(direct.statusCode).toBe(403);

    const linked = await me.users.identities.link(primary.userId, { link_with: idToken ?? '' });
    expect(linked.map((i) => i.user_id)).toEqual([primary.userId.slice(6), secondary.userId.slice(6)]);
    // The secondary's password now signs in as the primary.
    const { access_token: asSecondary } = await passwordGrant(
      'sdk.alt@example.com',
      MGMT_AUDIENCE,
      'read:current_user',
    );
    expect(jwtPayload(asSecondary)['sub']).toBe(primary.userId);
    expect((await asUser(asSecondary).users.get(primary.userId)).identities).toEqual(linked);

    const undo = await failure(
      me.users.identities.delete(stranger.userId, 'auth0', secondary.userId.slice(6)),
    );
    expect(undo.statusCode).toBe(403);
    expect(await me.users.identities.delete(primary.userId, 'auth0', secondary.userId.slice(6))).toEqual([
      linked[0],
    ]);
  });
});
