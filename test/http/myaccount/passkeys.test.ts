import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SERVER_SETTINGS } from '../../../src/config/schema.js';
import type { User } from '../../../src/domain/user.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';
import { api } from '../../helpers/http.js';
import { APP_ORIGIN, me, myAccountFixture, problem, type MyAccountFixture } from '../../helpers/myaccount.js';
import {
  createSoftAuthenticator,
  type RegistrationTamper,
  type SoftAuthenticator,
} from '../../helpers/soft-authenticator.js';

const ORIGIN = 'https://latchkey.test';
const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0 Safari/537.36';
const NEW_LOCATION = `${TEST_ISSUER}me/v1/authentication-methods/passkey%7Cnew`;
const userHandle = (user: User) => Buffer.from(user.userId, 'utf8').toString('base64url');

interface Started {
  auth_session: string;
  authn_params_public_key: PublicKeyCredentialCreationOptionsJSON;
}

describe.each(testBackends())('My Account API passkeys on $name (spec 3.2–3.5)', (backend) => {
  let t: TestApp;
  let f: MyAccountFixture;
  beforeAll(async () => {
    t = await buildTestApp(backend, {
      server: { ...DEFAULT_SERVER_SETTINGS, myAccountRateLimit: 1_000_000 },
    });
    f = await myAccountFixture(t);
    await f.activate();
  });
  afterAll(async () => {
    await t.close();
  });

  async function start(token: string, body: Record<string, unknown> = { type: 'passkey' }): Promise<Started> {
    const res = await me(t, 'POST', '/authentication-methods', token, body);
    expect(res.statusCode).toBe(202);
    expect(res.headers['location']).toBe(NEW_LOCATION);
    return res.json<Started>();
  }

  /** Starts an enrolment, has the authenticator answer it (maybe lying), and posts the answer to verify. */
  async function enrol(token: string, authenticator: SoftAuthenticator, tamper?: RegistrationTamper) {
    const started = await start(token);
    const authn_response = authenticator.register(started.authn_params_public_key, ORIGIN, tamper);
    return me(
      t,
      'POST',
      `${NEW_LOCATION}/verify`,
      token,
      { auth_session: started.auth_session, authn_response },
      { 'user-agent': BROWSER },
    );
  }

  it('starts an enrolment with the WebAuthn creation options and an auth_session (spec 3.3)', async () => {
    const user = await f.make.user({ email: 'ada@example.com' });
    const token = await f.tokenFor(user);
    const named = await api(t.app, {
      method: 'PATCH',
      url: '/api/v2/tenants/settings',
      token: await t.managementToken(),
      body: { friendly_name: 'Ada Shop' },
    });
    expect(named.statusCode).toBe(200);
    const res = await me(t, 'POST', '/authentication-methods', token, { type: 'passkey' });
    expect(res.statusCode).toBe(202);
    expect(res.headers['location']).toBe(NEW_LOCATION);
    expect(res.json()).toEqual({
      auth_session: expect.stringMatching(/^[\w-]{43}$/),
      authn_params_public_key: {
        challenge: expect.stringMatching(/^[\w-]{43}$/),
        rp: { name: 'Ada Shop', id: 'latchkey.test' },
        user: { id: userHandle(user), name: 'ada@example.com', displayName: 'ada@example.com' },
        pubKeyCredParams: [
          { alg: -8, type: 'public-key' },
          { alg: -7, type: 'public-key' },
          { alg: -257, type: 'public-key' },
        ],
        timeout: 300000,
        attestation: 'none',
        excludeCredentials: [],
        authenticatorSelection: {
          residentKey: 'required',
          userVerification: 'required',
          requireResidentKey: true,
        },
        extensions: { credProps: true },
        hints: [],
      },
    });
  });

  it('enrols a passkey, lists, reads, renames and deletes it (spec 3.2, 3.4, 3.5)', async () => {
    const user = await f.make.user();
    const token = await f.tokenFor(user);
    const authenticator = createSoftAuthenticator();
    const verified = await enrol(token, authenticator);
    expect(verified.statusCode).toBe(201);
    const credential = authenticator.passkeys[0];
    const method = verified.json<{ id: string; created_at: string }>();
    expect(method.id).toMatch(/^passkey\|dev_[A-Za-z0-9]{20}$/);
    const location = `${TEST_ISSUER}me/v1/authentication-methods/${encodeURIComponent(method.id)}`;
    expect(verified.headers['location']).toBe(location);
    const expected = {
      id: method.id,
      type: 'passkey',
      usage: ['primary'],
      created_at: new Date(t.clock.now()).toISOString(),
      credential_backed_up: true,
      credential_device_type: 'multi_device',
      identity_user_id: user.userId,
      key_id: credential?.credentialId,
      public_key: Buffer.from(credential?.credentialPublicKey ?? []).toString('base64url'),
      user_handle: userHandle(user),
      transports: ['hybrid', 'internal'],
      aaguid: '00000000-0000-0000-0000-000000000000',
      relying_party_id: 'latchkey.test',
      user_agent: BROWSER,
    };
    expect(method).toEqual(expected);

    const password = {
      id: `password|${Buffer.from(user.userId).toString('base64url')}`,
      type: 'password',
      usage: ['primary'],
      created_at: user.createdAt,
      identity_user_id: user.userId,
    };
    const list = await me(t, 'GET', '/authentication-methods', token);
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual({ authentication_methods: [password, expected] });
    const passkeys = await me(t, 'GET', '/authentication-methods?type=passkey', token);
    expect(passkeys.json()).toEqual({ authentication_methods: [expected] });
    expect(
      (await me(t, 'GET', `/authentication-methods/${encodeURIComponent(password.id)}`, token)).json(),
    ).toEqual(password);
    const one = await me(t, 'GET', new URL(location).pathname.replace('/me/v1', ''), token);
    expect(one.statusCode).toBe(200);
    expect(one.json()).toEqual(expected);

    const path = `/authentication-methods/${encodeURIComponent(method.id)}`;
    const renamed = await me(t, 'PATCH', path, token, { name: 'Work laptop' });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toEqual({ ...expected, name: 'Work laptop' });
    expect((await me(t, 'GET', path, token)).json()).toEqual({ ...expected, name: 'Work laptop' });
    const badPatch = await me(t, 'PATCH', path, token, { name: 'x', counter: 0 });
    expect(badPatch.statusCode).toBe(400);

    // A second enrolment excludes the first credential: the same authenticator refuses it, as a browser does.
    const again = await start(token);
    expect(again.authn_params_public_key.excludeCredentials).toEqual([
      { id: credential?.credentialId, type: 'public-key', transports: ['hybrid', 'internal'] },
    ]);
    expect(() => authenticator.register(again.authn_params_public_key, ORIGIN)).toThrow(/InvalidStateError/);

    const deleted = await me(t, 'DELETE', path, token);
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
    expect((await me(t, 'GET', '/authentication-methods?type=passkey', token)).json()).toEqual({
      authentication_methods: [],
    });
    const gone = await me(t, 'GET', path, token);
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toEqual(problem(404, 'Not Found', 'The authentication method does not exist.'));
    expect((await me(t, 'DELETE', path, token)).statusCode).toBe(404);
  });

  it.each<[string, RegistrationTamper]>([
    ['challenge', { challenge: 'c29tZS1vdGhlci1jaGFsbGVuZ2U' }],
    ['origin', { origin: 'https://evil.example.net' }],
    ['rp id', { rpId: 'evil.example.net' }],
    ['ceremony type', { type: 'webauthn.get' }],
    ['user verification', { userVerified: false }],
  ])('enrols nothing when the authenticator lies about the %s', async (_what, tamper) => {
    const user = await f.make.user();
    const token = await f.tokenFor(user);
    const res = await enrol(token, createSoftAuthenticator(), tamper);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      type: 'https://auth0.com/api-errors/A0E-400-0001',
      status: 400,
      title: 'Bad Request',
      detail: expect.stringMatching(/^The passkey registration could not be verified/),
    });
    expect((await me(t, 'GET', '/authentication-methods?type=passkey', token)).json()).toEqual({
      authentication_methods: [],
    });
  });

  it("accepts a ceremony on the token application's web origin, and no other application's", async () => {
    const user = await f.make.user();
    const token = await f.tokenFor(user);
    // The fixture's application lists APP_ORIGIN in its Allowed Web Origins; the rp id stays the issuer's host.
    const started = await start(token);
    const authn_response = createSoftAuthenticator().register(started.authn_params_public_key, APP_ORIGIN);
    const res = await me(t, 'POST', `${NEW_LOCATION}/verify`, token, {
      auth_session: started.auth_session,
      authn_response,
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ type: 'passkey', relying_party_id: 'latchkey.test' });

    const other = await f.make.client({
      appType: 'spa',
      grantTypes: ['password'],
      settings: { web_origins: ['https://other.example.org'] },
    });
    expect(other.settings['web_origins']).toEqual(['https://other.example.org']);
    const foreign = await enrol(token, createSoftAuthenticator(), { origin: 'https://other.example.org' });
    expect(foreign.statusCode).toBe(400);
    expect(foreign.json()).toMatchObject({
      detail: expect.stringMatching(/^The passkey registration could not be verified/),
    });
  });

  it('refuses a reused, unknown, expired or other user auth_session', async () => {
    const user = await f.make.user();
    const token = await f.tokenFor(user);
    const authenticator = createSoftAuthenticator();
    const started = await start(token);
    const authn_response = authenticator.register(started.authn_params_public_key, ORIGIN);
    const body = { auth_session: started.auth_session, authn_response };
    expect((await me(t, 'POST', `${NEW_LOCATION}/verify`, token, body)).statusCode).toBe(201);
    const reused = await me(t, 'POST', `${NEW_LOCATION}/verify`, token, body);
    expect(reused.statusCode).toBe(400);
    expect(reused.json()).toEqual(
      problem(400, 'Bad Request', 'The auth_session is invalid, expired or already used.'),
    );
    const unknown = await me(t, 'POST', `${NEW_LOCATION}/verify`, token, { ...body, auth_session: 'nope' });
    expect(unknown.json()).toEqual(reused.json());

    const other = await f.make.user();
    const otherToken = await f.tokenFor(other);
    const theirs = await start(otherToken);
    const stolen = await me(t, 'POST', `${NEW_LOCATION}/verify`, token, {
      auth_session: theirs.auth_session,
      authn_response: createSoftAuthenticator().register(theirs.authn_params_public_key, ORIGIN),
    });
    expect(stolen.json()).toEqual(reused.json());

    const late = await start(token);
    const lateResponse = createSoftAuthenticator().register(late.authn_params_public_key, ORIGIN);
    const started0 = t.clock.now();
    t.clock.advance(301_000);
    const expired = await me(t, 'POST', `${NEW_LOCATION}/verify`, await f.tokenFor(user), {
      auth_session: late.auth_session,
      authn_response: lateResponse,
    });
    t.clock.set(started0);
    expect(expired.statusCode).toBe(400);
    expect(expired.json()).toEqual(reused.json());
    const wrongId = await me(t, 'POST', '/authentication-methods/passkey%7Cdev_x/verify', token, body);
    expect(wrongId.statusCode).toBe(404);
  });

  it('answers 409 when the credential is already enrolled, for any user', async () => {
    const owner = await f.make.user();
    const user = await f.make.user();
    const token = await f.tokenFor(user);
    const started = await start(token);
    const authn_response = createSoftAuthenticator().register(started.authn_params_public_key, ORIGIN);
    // The owner holds the very credential the authenticator just made.
    await t.deps.store.passkeys.insert({
      id: 'passkey|dev_owner',
      userId: owner.userId,
      credentialId: authn_response.id,
      publicKey: 'AA',
      counter: 0,
      transports: [],
      deviceType: 'singleDevice',
      backedUp: false,
      aaguid: '00000000-0000-0000-0000-000000000000',
      userHandle: userHandle(owner),
      name: undefined,
      userAgent: undefined,
      createdAt: new Date(t.clock.now()).toISOString(),
      lastUsedAt: undefined,
    });
    const res = await me(t, 'POST', `${NEW_LOCATION}/verify`, token, {
      auth_session: started.auth_session,
      authn_response,
    });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual(problem(409, 'Conflict', 'The passkey is already enrolled.'));
    expect((await me(t, 'GET', '/authentication-methods?type=passkey', token)).json()).toEqual({
      authentication_methods: [],
    });
  });

  it('lets a Management token list and delete the user passkeys (spec 4.3)', async () => {
    const user = await f.make.user();
    const token = await f.tokenFor(user);
    const authenticator = createSoftAuthenticator();
    const method = (await enrol(token, authenticator)).json<{
      id: string;
      key_id: string;
      public_key: string;
    }>();
    const url = `/api/v2/users/${encodeURIComponent(user.userId)}/authentication-methods`;
    const reader = await t.managementTokenWith(['read:authentication_methods']);
    const list = await api(t.app, { method: 'GET', url, token: reader });
    expect(list.statusCode).toBe(200);
    const view = {
      id: method.id,
      type: 'passkey',
      confirmed: true,
      created_at: new Date(t.clock.now()).toISOString(),
      credential_backed_up: true,
      credential_device_type: 'multi_device',
      identity_user_id: user.userId,
      key_id: method.key_id,
      public_key: method.public_key,
      aaguid: '00000000-0000-0000-0000-000000000000',
      relying_party_identifier: 'latchkey.test',
      user_agent: BROWSER,
    };
    expect(list.json()).toEqual([view]);
    const totals = await api(t.app, { method: 'GET', url: `${url}?include_totals=true`, token: reader });
    expect(totals.json()).toEqual({ start: 0, limit: 50, total: 1, authenticators: [view] });
    const forbidden = await api(t.app, {
      method: 'DELETE',
      url: `${url}/${encodeURIComponent(method.id)}`,
      token: reader,
    });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json()).toMatchObject({ errorCode: 'insufficient_scope' });
    const deleter = await t.managementTokenWith(['delete:authentication_methods']);
    const removed = await api(t.app, {
      method: 'DELETE',
      url: `${url}/${encodeURIComponent(method.id)}`,
      token: deleter,
    });
    expect(removed.statusCode).toBe(204);
    expect((await api(t.app, { method: 'GET', url, token: reader })).json()).toEqual([]);
    const again = await api(t.app, {
      method: 'DELETE',
      url: `${url}/${encodeURIComponent(method.id)}`,
      token: deleter,
    });
    expect(again.statusCode).toBe(404);
    const nobody = await api(t.app, {
      method: 'GET',
      url: '/api/v2/users/auth0%7Cnobody/authentication-methods',
      token: reader,
    });
    expect(nobody.statusCode).toBe(404);
    expect(nobody.json()).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'The user does not exist.',
      errorCode: 'inexistent_user',
    });
  });

  it('deletes the passkeys with their user', async () => {
    const user = await f.make.user();
    const token = await f.tokenFor(user);
    expect((await enrol(token, createSoftAuthenticator())).statusCode).toBe(201);
    expect(await t.deps.store.passkeys.listForUser(user.userId)).toHaveLength(1);
    await t.deps.store.users.delete(user.userId);
    expect(await t.deps.store.passkeys.listForUser(user.userId)).toEqual([]);
  });
});
