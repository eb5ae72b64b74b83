import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { api } from '../../helpers/http.js';
import { createSoftAuthenticator, type SoftAuthenticator } from '../../helpers/soft-authenticator.js';

const GRANT = 'urn:okta:params:oauth:grant-type:webauthn';
const ORIGIN = 'https://latchkey.test';
const DB = 'Username-Password-Authentication';

interface Started<T> {
  auth_session: string;
  authn_params_public_key: T;
}

// A linked account's passkey moves with it: it signs in as the primary while linked and as itself again
// once unlinked.
describe.each(testBackends())('account linking and passkeys on $name', (backend) => {
  let t: TestApp;
  let make: Factories;
  let app: Client;
  let admin: string;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    make = createFactories(t.deps);
    app = await make.client({ appType: 'native', grantTypes: [GRANT] });
    await make.enableConnection(app.clientId);
    admin = await t.managementToken();
    const id = (await t.deps.store.connections.findByName(DB))?.id ?? '';
    const res = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/connections/${id}`,
      token: admin,
      body: {
        options: {
          authentication_methods: { password: { enabled: true }, passkey: { enabled: true } },
          passkey_options: {
            challenge_ui: 'both',
            local_enrollment_enabled: true,
            progressive_enrollment_enabled: true,
          },
        },
      },
    });
    expect(res.statusCode).toBe(200);
  });
  afterAll(async () => {
    await t.close();
  });

  const post = (url: string, body: Record<string, unknown>) =>
    t.app.inject({
      method: 'POST',
      url,
      payload: { client_id: app.clientId, client_secret: app.clientSecret, realm: DB, ...body },
    });
  const grant = (started: { auth_session: string }, authn_response: unknown) =>
    post('/oauth/token', {
      grant_type: GRANT,
      auth_session: started.auth_session,
      authn_response,
      scope: 'openid email',
    });
  const subOf = (res: { statusCode: number; json: () => unknown }) => {
    expect(res.statusCode).toBe(200);
    return decodeJwt((res.json() as { id_token: string }).id_token).sub;
  };

  async function signUp(email: string, authenticator: SoftAuthenticator): Promise<string | undefined> {
    const started = (await post('/passkey/register', { user_profile: { email } })).json<
      Started<PublicKeyCredentialCreationOptionsJSON>
    >();
    return subOf(await grant(started, authenticator.register(started.authn_params_public_key, ORIGIN)));
  }
  async function signIn(authenticator: SoftAuthenticator): Promise<string | undefined> {
    const started = (await post('/passkey/challenge', {})).json<
      Started<PublicKeyCredentialRequestOptionsJSON>
    >();
    return subOf(await grant(started, authenticator.authenticate(started.authn_params_public_key, ORIGIN)));
  }

  it("signs in with the secondary's passkey as the primary while linked, as itself once unlinked", async () => {
    const primary = await make.user({ email: 'passkey.primary@example.com' });
    const authenticator = createSoftAuthenticator();
    const secondaryId = (await signUp('passkey.secondary@example.com', authenticator)) ?? '';
    expect(await signIn(authenticator)).toBe(secondaryId);

    const linked = await api(t.app, {
      method: 'POST',
      url: `/api/v2/users/${encodeURIComponent(primary.userId)}/identities`,
      token: admin,
      body: { provider: 'auth0', user_id: secondaryId.slice(6) },
    });
    expect(linked.statusCode).toBe(201);
    expect(await signIn(authenticator)).toBe(primary.userId);
    const methods = await api(t.app, {
      method: 'GET',
      url: `/api/v2/users/${encodeURIComponent(primary.userId)}/authentication-methods`,
      token: admin,
    });
    expect(methods.json<{ type: string }[]>().map((m) => m.type)).toContain('passkey');

    const unlinked = await api(t.app, {
      method: 'DELETE',
      url: `/api/v2/users/${encodeURIComponent(primary.userId)}/identities/auth0/${secondaryId.slice(6)}`,
      token: admin,
    });
    expect(unlinked.statusCode).toBe(200);
    expect(await signIn(authenticator)).toBe(secondaryId);
  });
});
