import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SERVER_SETTINGS } from '../../../src/config/schema.js';
import type { Client } from '../../../src/domain/client.js';
import { MY_ACCOUNT_SCOPES } from '../../../src/management/resource-servers/my-account.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, MGMT_AUDIENCE, type TestApp } from '../../helpers/build-test-app.js';
import { api, form } from '../../helpers/http.js';
import { ME_AUDIENCE, me, myAccountFixture, type MyAccountFixture } from '../../helpers/myaccount.js';
import {
  createSoftAuthenticator,
  type AuthenticationTamper,
  type RegistrationTamper,
  type SoftAuthenticator,
} from '../../helpers/soft-authenticator.js';

const GRANT = 'urn:okta:params:oauth:grant-type:webauthn';
const ORIGIN = 'https://latchkey.test';
const DB = 'Username-Password-Authentication';

interface RegisterStarted {
  auth_session: string;
  authn_params_public_key: PublicKeyCredentialCreationOptionsJSON;
}
interface ChallengeStarted {
  auth_session: string;
  authn_params_public_key: PublicKeyCredentialRequestOptionsJSON;
}

describe.each(testBackends())('native passkeys on $name (spec 1.5)', (backend) => {
  let t: TestApp;
  let f: MyAccountFixture;
  let app: Client;
  beforeAll(async () => {
    t = await buildTestApp(backend, {
      server: { ...DEFAULT_SERVER_SETTINGS, myAccountRateLimit: 1_000_000 },
    });
    f = await myAccountFixture(t);
    await f.activate();
    app = await f.make.client({ appType: 'native', grantTypes: [GRANT, 'refresh_token'] });
    await f.make.enableConnection(app.clientId);
    await f.make.grant({
      clientId: app.clientId,
      audience: ME_AUDIENCE,
      subjectType: 'user',
      scope: [...MY_ACCOUNT_SCOPES],
    });
    const id = (await t.deps.store.connections.findByName(DB))?.id ?? '';
    const res = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/connections/${id}`,
      token: await t.managementToken(),
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
    expect(res.json<{ options: unknown }>().options).toEqual({
      authentication_methods: { password: { enabled: true }, passkey: { enabled: true } },
      passkey_options: {
        challenge_ui: 'both',
        local_enrollment_enabled: true,
        progressive_enrollment_enabled: true,
      },
    });
  });
  afterAll(async () => {
    await t.close();
  });

  const creds = (client: Client = app) => ({
    client_id: client.clientId,
    client_secret: client.clientSecret,
  });

  function post(url: string, body: Record<string, unknown>) {
    return t.app.inject({ method: 'POST', url, payload: body });
  }

  async function register(email: string, client: Client = app): Promise<RegisterStarted> {
    const res = await post('/passkey/register', { ...creds(client), realm: DB, user_profile: { email } });
    expect(res.statusCode).toBe(200);
    return res.json<RegisterStarted>();
  }

  async function challenge(): Promise<ChallengeStarted> {
    const res = await post('/passkey/challenge', { ...creds(), realm: DB });
    expect(res.statusCode).toBe(200);
    return res.json<ChallengeStarted>();
  }

  function grant(auth_session: string, authn_response: unknown, extra: Record<string, string> = {}) {
    return post('/oauth/token', {
      grant_type: GRANT,
      ...creds(),
      auth_session,
      authn_response,
      realm: DB,
      scope: 'openid profile email offline_access',
      ...extra,
    });
  }

  /** Signs a new user up with a fresh authenticator (optionally lying); returns the token response. */
  async function signUp(email: string, authenticator: SoftAuthenticator, tamper?: RegistrationTamper) {
    const started = await register(email);
    return grant(
      started.auth_session,
      authenticator.register(started.authn_params_public_key, ORIGIN, tamper),
    );
  }

  async function signIn(authenticator: SoftAuthenticator, tamper?: AuthenticationTamper) {
    const started = await challenge();
    return grant(
      started.auth_session,
      authenticator.authenticate(started.authn_params_public_key, ORIGIN, tamper),
    );
  }

  const invalidGrant = (description: string | RegExp) => ({
    error: 'invalid_grant',
    error_description: typeof description === 'string' ? description : expect.stringMatching(description),
  });

  it('answers /passkey/register with creation options and an auth_session (spec 1.5)', async () => {
    const res = await post('/passkey/register', {
      client_id: app.clientId,
      client_secret: app.clientSecret,
      realm: DB,
      user_profile: { email: 'opts@example.com', name: 'Opts' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json<RegisterStarted>();
    expect(body).toEqual({
      auth_session: expect.stringMatching(/^[\w-]{43}$/),
      authn_params_public_key: {
        challenge: expect.stringMatching(/^[\w-]{43}$/),
        timeout: 60000,
        rp: { id: 'latchkey.test', name: 'latchkey.test' },
        user: { id: expect.stringMatching(/^[\w-]{43}$/), name: 'opts@example.com', displayName: 'Opts' },
        pubKeyCredParams: [
          { alg: -8, type: 'public-key' },
          { alg: -7, type: 'public-key' },
          { alg: -257, type: 'public-key' },
        ],
        authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
      },
    });
  });

  it('answers /passkey/challenge with request options and an auth_session (spec 1.5)', async () => {
    const res = await post('/passkey/challenge', { ...creds(), realm: DB });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      auth_session: expect.stringMatching(/^[\w-]{43}$/),
      authn_params_public_key: {
        challenge: expect.stringMatching(/^[\w-]{43}$/),
        timeout: 60000,
        rpId: 'latchkey.test',
        userVerification: 'preferred',
      },
    });
  });

  it('signs a new user up: register + grant → tokens; the user exists, with no password', async () => {
    const authenticator = createSoftAuthenticator();
    const res = await signUp('new@example.com', authenticator);
    expect(res.statusCode).toBe(200);
    const body = res.json<{ id_token: string; access_token: string; refresh_token: string }>();
    expect(body).toEqual({
      access_token: expect.any(String),
      id_token: expect.any(String),
      refresh_token: expect.any(String),
      scope: 'openid profile email offline_access',
      expires_in: 86400,
      token_type: 'Bearer',
    });
    const sub = decodeJwt(body.id_token).sub ?? '';
    expect(sub).toMatch(/^auth0\|[0-9a-f]{24}$/);
    expect(decodeJwt(body.id_token)['email']).toBe('new@example.com');
    expect(decodeJwt(body.id_token)['email_verified']).toBe(false);
    const user = await api(t.app, {
      method: 'GET',
      url: `/api/v2/users/${encodeURIComponent(sub)}`,
      token: await t.managementToken(),
    });
    expect(user.statusCode).toBe(200);
    expect(user.json()).toMatchObject({ user_id: sub, email: 'new@example.com', email_verified: false });
    const stored = await t.deps.store.users.findById(sub);
    expect(stored?.identities[0]?.passwordHash).toBeUndefined();
    const passkey = await t.deps.store.passkeys.findByCredentialId(
      authenticator.passkeys[0]?.credentialId ?? '',
    );
    expect(passkey).toMatchObject({ userId: sub, userHandle: authenticator.passkeys[0]?.userHandle });
  });

  it('signs the user in: challenge + grant → tokens; counter and last use stored', async () => {
    const authenticator = createSoftAuthenticator();
    const up = await signUp('back@example.com', authenticator);
    expect(up.statusCode).toBe(200);
    const sub = decodeJwt(up.json<{ id_token: string }>().id_token).sub;
    const res = await signIn(authenticator);
    expect(res.statusCode).toBe(200);
    expect(decodeJwt(res.json<{ id_token: string }>().id_token).sub).toBe(sub);
    const passkey = await t.deps.store.passkeys.findByCredentialId(
      authenticator.passkeys[0]?.credentialId ?? '',
    );
    expect(passkey?.counter).toBe(authenticator.passkeys[0]?.signCount);
    expect(passkey?.lastUsedAt).toBe(new Date(t.deps.clock.now()).toISOString());
  });

  it('takes authn_response as a JSON string in a form body (auth-js)', async () => {
    const authenticator = createSoftAuthenticator();
    const started = await register('form@example.com');
    const credential = authenticator.register(started.authn_params_public_key, ORIGIN);
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({
        grant_type: GRANT,
        ...creds(),
        auth_session: started.auth_session,
        authn_response: JSON.stringify(credential),
        realm: DB,
        scope: 'openid',
      }),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      access_token: expect.any(String),
      id_token: expect.any(String),
      scope: 'openid',
      expires_in: 86400,
      token_type: 'Bearer',
    });
    const challenged = await challenge();
    const assertion = authenticator.authenticate(challenged.authn_params_public_key, ORIGIN);
    const again = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({
        grant_type: GRANT,
        ...creds(),
        auth_session: challenged.auth_session,
        authn_response: JSON.stringify(assertion),
        scope: 'openid',
      }),
    });
    expect(again.statusCode).toBe(200);
  });

  it.each<[string, RegistrationTamper, RegExp]>([
    ['challenge', { challenge: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, /challenge/i],
    ['origin', { origin: 'https://evil.example' }, /origin/i],
    ['rp id', { rpId: 'evil.example' }, /RP ID/i],
    ['type', { type: 'webauthn.get' }, /type/i],
  ])('refuses a registration with a tampered %s and creates nothing', async (_name, tamper, why) => {
    const email = `tamper-${_name.replace(' ', '')}@example.com`;
    const res = await signUp(email, createSoftAuthenticator(), tamper);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual(invalidGrant(why));
    expect(res.json<{ error_description: string }>().error_description).toMatch(
      /^The passkey registration could not be verified/,
    );
    expect(await t.deps.store.users.findByLogin(DB, email)).toBeUndefined();
  });

  it.each<[string, AuthenticationTamper, RegExp]>([
    ['challenge', { challenge: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, /challenge/i],
    ['origin', { origin: 'https://evil.example' }, /origin/i],
    ['rp id', { rpId: 'evil.example' }, /RP ID/i],
    ['type', { type: 'webauthn.create' }, /type/i],
    ['signature', { signature: 'corrupt' }, /signature/i],
    ['counter', { signCount: 0 }, /counter/i],
  ])('refuses a sign-in with a tampered %s and changes nothing', async (_name, tamper, why) => {
    const authenticator = createSoftAuthenticator();
    const email = `signin-${_name.replace(' ', '')}@example.com`;
    expect((await signUp(email, authenticator)).statusCode).toBe(200);
    expect((await signIn(authenticator)).statusCode).toBe(200);
    const id = authenticator.passkeys[0]?.credentialId ?? '';
    const before = await t.deps.store.passkeys.findByCredentialId(id);
    const res = await signIn(authenticator, tamper);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual(invalidGrant(why));
    expect(await t.deps.store.passkeys.findByCredentialId(id)).toEqual(before);
  });

  it('refuses a reused or expired auth_session', async () => {
    const authenticator = createSoftAuthenticator();
    const started = await register('reuse@example.com');
    const credential = authenticator.register(started.authn_params_public_key, ORIGIN);
    expect((await grant(started.auth_session, credential)).statusCode).toBe(200);
    const again = await grant(started.auth_session, credential);
    expect(again.statusCode).toBe(403);
    expect(again.json()).toEqual(invalidGrant('The auth_session is invalid, expired or already used.'));

    const late = await register('late@example.com');
    const lateCredential = createSoftAuthenticator().register(late.authn_params_public_key, ORIGIN);
    t.clock.advance(301_000);
    const expired = await grant(late.auth_session, lateCredential);
    expect(expired.statusCode).toBe(403);
    expect(expired.json()).toEqual(invalidGrant('The auth_session is invalid, expired or already used.'));
    expect(await t.deps.store.users.findByLogin(DB, 'late@example.com')).toBeUndefined();
  });

  it('refuses clients without the grant type, third-party clients, and unknown clients', async () => {
    const plain = await f.make.client({ appType: 'native', grantTypes: ['password'] });
    await f.make.enableConnection(plain.clientId);
    const third = await f.make.client({ appType: 'native', grantTypes: [GRANT], isFirstParty: false });
    await f.make.enableConnection(third.clientId);
    for (const url of ['/passkey/register', '/passkey/challenge']) {
      const body = url === '/passkey/register' ? { user_profile: { email: 'x@example.com' } } : {};
      const noGrant = await post(url, { ...creds(plain), realm: DB, ...body });
      expect(noGrant.statusCode).toBe(403);
      expect(noGrant.json()).toEqual({
        error: 'unauthorized_client',
        error_description: `Grant type '${GRANT}' not allowed for the client.`,
      });
      const thirdParty = await post(url, { ...creds(third), realm: DB, ...body });
      expect(thirdParty.statusCode).toBe(403);
      expect(thirdParty.json()).toEqual({
        error: 'unauthorized_client',
        error_description: 'Passkey authentication is only available to first-party clients.',
      });
      const wrongSecret = await post(url, {
        client_id: app.clientId,
        client_secret: 'nope',
        realm: DB,
        ...body,
      });
      expect(wrongSecret.statusCode).toBe(401);
      expect(wrongSecret.json<{ error: string }>().error).toBe('invalid_client');
    }
  });

  it('refuses an unknown realm and a connection without passkeys', async () => {
    const unknown = await post('/passkey/challenge', { ...creds(), realm: 'nowhere' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toEqual({ error: 'invalid_request', error_description: 'Unknown realm: nowhere' });
    const created = await api(t.app, {
      method: 'POST',
      url: '/api/v2/connections',
      token: await t.managementToken(),
      body: { name: 'no-passkeys', strategy: 'auth0', enabled_clients: [app.clientId] },
    });
    expect(created.statusCode).toBe(201);
    t.deps.lookups.invalidate();
    const off = await post('/passkey/register', {
      ...creds(),
      realm: 'no-passkeys',
      user_profile: { email: 'off@example.com' },
    });
    expect(off.statusCode).toBe(403);
    expect(off.json()).toEqual({
      error: 'access_denied',
      error_description: 'Passkeys are not enabled for the connection no-passkeys.',
    });
  });

  it('rejects a bad passkey option through /api/v2/connections', async () => {
    const res = await api(t.app, {
      method: 'POST',
      url: '/api/v2/connections',
      token: await t.managementToken(),
      body: {
        name: 'bad-passkeys',
        strategy: 'auth0',
        options: { passkey_options: { challenge_ui: 'popup' } },
      },
    });
    expect(res.statusCode).toBe(400);
  });

  it('refuses a sign-up for an existing user and an unknown profile property', async () => {
    await f.make.user({ email: 'taken@example.com' });
    const taken = await post('/passkey/register', {
      ...creds(),
      realm: DB,
      user_profile: { email: 'taken@example.com' },
    });
    expect(taken.statusCode).toBe(400);
    expect(taken.json()).toEqual({ error: 'invalid_request', error_description: 'The user already exists.' });
    const odd = await post('/passkey/register', {
      ...creds(),
      realm: DB,
      user_profile: { email: 'odd@example.com', shoe_size: '44' },
    });
    expect(odd.statusCode).toBe(400);
    expect(odd.json()).toEqual({
      error: 'invalid_request',
      error_description: 'Invalid parameter: user_profile.shoe_size is not allowed',
    });
  });

  it('refuses a blocked user on sign-in', async () => {
    const authenticator = createSoftAuthenticator();
    const up = await signUp('blocked@example.com', authenticator);
    const sub = decodeJwt(up.json<{ id_token: string }>().id_token).sub ?? '';
    const blocked = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/users/${encodeURIComponent(sub)}`,
      token: await t.managementToken(),
      body: { blocked: true },
    });
    expect(blocked.statusCode).toBe(200);
    const res = await signIn(authenticator);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: 'unauthorized', error_description: 'user is blocked' });
  });

  it('signs in with a passkey enrolled through /me/v1', async () => {
    const user = await f.make.user({ email: 'enrolled@example.com' });
    const token = await f.tokenFor(user);
    const authenticator = createSoftAuthenticator();
    const started = await me(t, 'POST', '/authentication-methods', token, { type: 'passkey' });
    expect(started.statusCode).toBe(202);
    const { auth_session, authn_params_public_key } = started.json<RegisterStarted>();
    const verified = await me(t, 'POST', '/authentication-methods/passkey%7Cnew/verify', token, {
      auth_session,
      authn_response: authenticator.register(authn_params_public_key, ORIGIN),
    });
    expect(verified.statusCode).toBe(201);
    const res = await signIn(authenticator);
    expect(res.statusCode).toBe(200);
    expect(decodeJwt(res.json<{ id_token: string }>().id_token).sub).toBe(user.userId);
  });

  it('lists a passkey made by native sign-up in GET /me/v1/authentication-methods', async () => {
    const authenticator = createSoftAuthenticator();
    const started = await register('listed@example.com');
    const res = await grant(
      started.auth_session,
      authenticator.register(started.authn_params_public_key, ORIGIN),
      {
        audience: ME_AUDIENCE,
        scope: 'openid read:me:authentication_methods',
      },
    );
    expect(res.statusCode).toBe(200);
    const list = await me(
      t,
      'GET',
      '/authentication-methods',
      res.json<{ access_token: string }>().access_token,
    );
    expect(list.statusCode).toBe(200);
    const methods = list.json<{ authentication_methods: { type: string; key_id?: string }[] }>()
      .authentication_methods;
    expect(methods.map((m) => m.type)).toEqual(['passkey']);
    expect(methods[0]?.key_id).toBe(authenticator.passkeys[0]?.credentialId);
  });

  it('records tenant log events: ss and s for sign-up and sign-in, f for a refused assertion', async () => {
    const authenticator = createSoftAuthenticator();
    const up = await signUp('logged@example.com', authenticator);
    const sub = decodeJwt(up.json<{ id_token: string }>().id_token).sub ?? '';
    expect((await signIn(authenticator)).statusCode).toBe(200);
    expect((await signIn(authenticator, { signature: 'corrupt' })).statusCode).toBe(403);
    await t.deps.events.flush();
    const rows = await t.deps.storage.db
      .selectFrom('logs')
      .select(['type', 'description', 'connection', 'client_id', 'strategy'])
      .where('user_id', '=', sub)
      .orderBy('at')
      .orderBy('log_id')
      .execute();
    const common = { connection: DB, client_id: app.clientId, strategy: 'auth0' };
    expect(rows).toEqual([
      { type: 'ss', description: 'Successful signup', ...common },
      { type: 's', description: '', ...common },
      { type: 's', description: '', ...common },
      {
        type: 'f',
        description: 'The passkey assertion could not be verified: the signature is not valid',
        ...common,
        strategy: null,
      },
    ]);
  });

  it('keeps user_metadata and the profile of the sign-up, and uses the default directory when realm is omitted', async () => {
    const settings = await api(t.app, {
      method: 'PATCH',
      url: '/api/v2/tenants/settings',
      token: await t.managementToken(),
      body: { default_directory: DB },
    });
    expect(settings.statusCode).toBe(200);
    const started = await post('/passkey/register', {
      ...creds(),
      user_profile: { email: 'meta@example.com', given_name: 'Meta', family_name: 'Data' },
      user_metadata: { plan: 'free' },
    });
    expect(started.statusCode).toBe(200);
    const { auth_session, authn_params_public_key } = started.json<RegisterStarted>();
    const res = await post('/oauth/token', {
      grant_type: GRANT,
      ...creds(),
      auth_session,
      authn_response: createSoftAuthenticator().register(authn_params_public_key, ORIGIN),
    });
    expect(res.statusCode).toBe(200);
    const user = (await t.deps.store.users.findByLogin(DB, 'meta@example.com'))?.user;
    expect(user).toMatchObject({ givenName: 'Meta', familyName: 'Data', userMetadata: { plan: 'free' } });
    const bad = await post('/passkey/register', {
      ...creds(),
      realm: DB,
      user_profile: { email: 'meta2@example.com' },
      user_metadata: { plan: 1 },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({
      error: 'invalid_request',
      error_description: 'Invalid parameter: user_metadata must be an object of at most 10 strings',
    });
  });

  it("refuses an assertion whose user handle is not the passkey's", async () => {
    const authenticator = createSoftAuthenticator();
    expect((await signUp('handle@example.com', authenticator)).statusCode).toBe(200);
    const started = await challenge();
    const assertion = authenticator.authenticate(started.authn_params_public_key, ORIGIN);
    const res = await grant(started.auth_session, {
      ...assertion,
      response: { ...assertion.response, userHandle: 'c29tZW9uZS1lbHNl' },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual(invalidGrant('The user handle does not match the passkey.'));
  });

  it('answers browser apps on their own origins only (CORS, as at the token endpoint)', async () => {
    const spa = await f.make.client({
      appType: 'spa',
      tokenEndpointAuthMethod: 'none',
      grantTypes: [GRANT],
      settings: { web_origins: ['https://spa.example.com'] },
    });
    await f.make.enableConnection(spa.clientId);
    t.deps.lookups.invalidate();
    const preflight = await t.app.inject({
      method: 'OPTIONS',
      url: '/passkey/challenge',
      headers: {
        origin: 'https://spa.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://spa.example.com');
    const call = (origin: string) =>
      t.app.inject({
        method: 'POST',
        url: '/passkey/challenge',
        headers: { origin },
        payload: { client_id: spa.clientId, realm: DB },
      });
    const allowed = await call('https://spa.example.com');
    expect(allowed.statusCode).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://spa.example.com');
    const other = await call('https://evil.example');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it("accepts ceremonies run on the client's Allowed Web Origins (PasskeyApiClient in a browser app)", async () => {
    const spa = await f.make.client({
      appType: 'spa',
      tokenEndpointAuthMethod: 'none',
      grantTypes: [GRANT],
      settings: { web_origins: ['https://shop.latchkey.test', 'https://*.latchkey.test'] },
    });
    await f.make.enableConnection(spa.clientId);
    t.deps.lookups.invalidate();
    const signUpOn = async (origin: string, email: string) => {
      const started = await post('/passkey/register', {
        client_id: spa.clientId,
        realm: DB,
        user_profile: { email },
      });
      expect(started.statusCode).toBe(200);
      const body = started.json<RegisterStarted>();
      const authenticator = createSoftAuthenticator();
      const res = await post('/oauth/token', {
        grant_type: GRANT,
        client_id: spa.clientId,
        auth_session: body.auth_session,
        authn_response: authenticator.register(body.authn_params_public_key, origin),
        realm: DB,
      });
      return { res, authenticator };
    };
    const { res, authenticator } = await signUpOn('https://shop.latchkey.test', 'shop.signup@example.com');
    expect(res.statusCode).toBe(200);
    // The same passkey signs in from the application's page.
    const challenged = await post('/passkey/challenge', { client_id: spa.clientId, realm: DB });
    const started = challenged.json<ChallengeStarted>();
    const signedIn = await post('/oauth/token', {
      grant_type: GRANT,
      client_id: spa.clientId,
      auth_session: started.auth_session,
      authn_response: authenticator.authenticate(
        started.authn_params_public_key,
        'https://shop.latchkey.test',
      ),
      realm: DB,
    });
    expect(signedIn.statusCode).toBe(200);
    // Only exact origins count (a wildcard is not an origin), and never another application's.
    const wildcard = await signUpOn('https://other.latchkey.test', 'wild.signup@example.com');
    expect(wildcard.res.statusCode).toBe(403);
    expect(wildcard.res.json()).toEqual(invalidGrant(/origin/i));
    expect(await t.deps.store.users.findByEmail('wild.signup@example.com')).toEqual([]);
    const elsewhere = await signUp('other.app@example.com', createSoftAuthenticator(), {
      origin: 'https://shop.latchkey.test',
    });
    expect(elsewhere.statusCode).toBe(403);
    expect(elsewhere.json()).toEqual(invalidGrant(/origin/i));
    expect(await t.deps.store.users.findByEmail('other.app@example.com')).toEqual([]);
  });

  it('refuses to finish a ceremony once the connection has passkeys turned off', async () => {
    const created = await api(t.app, {
      method: 'POST',
      url: '/api/v2/connections',
      token: await t.managementToken(),
      body: {
        name: 'switched',
        strategy: 'auth0',
        enabled_clients: [app.clientId],
        options: { authentication_methods: { passkey: { enabled: true } } },
      },
    });
    expect(created.statusCode).toBe(201);
    const started = await post('/passkey/register', {
      ...creds(),
      realm: 'switched',
      user_profile: { email: 'switched@example.com' },
    });
    expect(started.statusCode).toBe(200);
    const { auth_session, authn_params_public_key } = started.json<RegisterStarted>();
    const off = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/connections/${created.json<{ id: string }>().id}`,
      token: await t.managementToken(),
      body: { options: { authentication_methods: { passkey: { enabled: false } } } },
    });
    expect(off.statusCode).toBe(200);
    const res = await grant(
      auth_session,
      createSoftAuthenticator().register(authn_params_public_key, ORIGIN),
      {
        realm: 'switched',
      },
    );
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual(invalidGrant('Passkeys are not enabled for the connection.'));
    expect(await t.deps.store.users.findByLogin('switched', 'switched@example.com')).toBeUndefined();
  });

  it('answers invalid_request for missing or malformed parameters', async () => {
    const started = await challenge();
    const missing = await post('/oauth/token', { grant_type: GRANT, ...creds(), authn_response: {} });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toEqual({
      error: 'invalid_request',
      error_description: 'Missing required parameter: auth_session',
    });
    const garbled = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({ grant_type: GRANT, ...creds(), auth_session: started.auth_session, authn_response: '{nope' }),
    });
    expect(garbled.statusCode).toBe(400);
    expect(garbled.json()).toEqual({
      error: 'invalid_request',
      error_description: 'Invalid parameter: authn_response must be a JSON object',
    });
    const extra = await post('/passkey/challenge', { ...creds(), realm: DB, connection: DB });
    expect(extra.statusCode).toBe(400);
    expect(extra.json()).toEqual({
      error: 'invalid_request',
      error_description: 'Invalid parameter: connection is not allowed',
    });
    const noProfile = await post('/passkey/register', { ...creds(), realm: DB });
    expect(noProfile.statusCode).toBe(400);
    expect(noProfile.json()).toEqual({
      error: 'invalid_request',
      error_description: 'Missing required parameter: user_profile',
    });
  });

  it('accepts an authenticator that never counts (counter 0 before and after), as synced passkeys do', async () => {
    const authenticator = createSoftAuthenticator();
    expect((await signUp('zero@example.com', authenticator)).statusCode).toBe(200);
    expect((await signIn(authenticator, { signCount: 0 })).statusCode).toBe(200);
    expect((await signIn(authenticator, { signCount: 0 })).statusCode).toBe(200);
    // Once it has counted, it may not go back.
    expect((await signIn(authenticator, { signCount: 5 })).statusCode).toBe(200);
    const back = await signIn(authenticator, { signCount: 0 });
    expect(back.statusCode).toBe(403);
    expect(back.json()).toEqual(invalidGrant(/counter/i));
  });

  it('lists the webauthn grant in discovery', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' });
    expect(res.json<{ grant_types_supported: string[] }>().grant_types_supported).toContain(GRANT);
  });

  it('gives a Management API token capped to the current-user scopes (seed 003), acting on its own user only', async () => {
    const authenticator = createSoftAuthenticator();
    const up = await signUp('seed3-passkey@example.com', authenticator);
    expect(up.statusCode).toBe(200);
    const sub = decodeJwt(up.json<{ id_token: string }>().id_token).sub ?? '';
    const started = await challenge();
    const res = await grant(
      started.auth_session,
      authenticator.authenticate(started.authn_params_public_key, ORIGIN),
      {
        audience: MGMT_AUDIENCE,
        scope: 'read:current_user update:current_user_metadata read:users delete:users',
      },
    );
    expect(res.statusCode, res.body).toBe(200);
    const token = res.json<{ access_token: string }>().access_token;
    expect(decodeJwt(token)).toMatchObject({
      sub,
      aud: MGMT_AUDIENCE,
      scope: 'read:current_user update:current_user_metadata',
    });
    const own = await api(t.app, { method: 'GET', url: `/api/v2/users/${encodeURIComponent(sub)}`, token });
    expect(own.statusCode).toBe(200);
    const list = await api(t.app, { method: 'GET', url: '/api/v2/users', token });
    expect(list.statusCode).toBe(403);
  });
});

/** Turns passkeys on for the tenant's default database connection, through the Management API. */
async function enablePasskeys(t: TestApp, enabled = true): Promise<void> {
  const id = (await t.deps.store.connections.findByName(DB))?.id ?? '';
  const res = await api(t.app, {
    method: 'PATCH',
    url: `/api/v2/connections/${id}`,
    token: await t.managementToken(),
    body: { options: { authentication_methods: { password: { enabled: true }, passkey: { enabled } } } },
  });
  expect(res.statusCode).toBe(200);
}

describe('native passkey endpoints while no connection has passkeys on (spec 1.5)', () => {
  it('answer 404, as Auth0 does while the Passkey APIs are off for the tenant, and come on with a connection', async () => {
    const t = await buildTestApp();
    try {
      const call = (url: string) => t.app.inject({ method: 'POST', url, payload: { client_id: 'nobody' } });
      for (const url of ['/passkey/register', '/passkey/challenge']) {
        const res = await call(url);
        expect(res.statusCode).toBe(404);
        expect(res.json()).toEqual({ error: 'invalid_request', error_description: 'Not Found' });
      }
      await enablePasskeys(t);
      expect((await call('/passkey/challenge')).statusCode).toBe(401);
      await enablePasskeys(t, false);
      expect((await call('/passkey/challenge')).statusCode).toBe(404);
    } finally {
      await t.close();
    }
  });
});

describe('native passkey endpoints: per-address limit (spec 1.5)', () => {
  it('answers 429 once an address has failed too often', async () => {
    const t = await buildTestApp(undefined, {}, { failedAuthLimit: { limit: 2, windowSeconds: 60 } });
    try {
      await enablePasskeys(t);
      const bad = () =>
        t.app.inject({ method: 'POST', url: '/passkey/challenge', payload: { client_id: 'nobody' } });
      expect((await bad()).statusCode).toBe(401);
      expect((await bad()).statusCode).toBe(401);
      const limited = await bad();
      expect(limited.statusCode).toBe(429);
      expect(limited.json()).toEqual({
        error: 'too_many_requests',
        error_description:
          'Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.',
      });
      expect(limited.headers['retry-after']).toBeDefined();
    } finally {
      await t.close();
    }
  });
});
