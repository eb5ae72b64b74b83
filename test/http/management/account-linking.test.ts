import { SignJWT, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import type { User } from '../../../src/domain/user.js';
import { authorize, CookieJar, loginThroughPage } from '../../helpers/authorize.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, MGMT_AUDIENCE, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { api, form, jwtHeader, jwtPayload } from '../../helpers/http.js';

const PASSWORD = 'Pass-word-123';
const DB = 'Username-Password-Authentication';
const CALLBACK = 'https://app.example.com/callback';
const CURRENT_USER = 'read:current_user update:current_user_identities';
const path = (id: string) => `/api/v2/users/${encodeURIComponent(id)}`;
const own = (u: User) => ({ connection: DB, user_id: u.userId.slice(6), provider: 'auth0', isSocial: false });

interface Tokens {
  access_token: string;
  id_token?: string;
  refresh_token?: string;
}

describe.each(testBackends())('account linking (spec 4.5) on $name', (backend) => {
  let t: TestApp;
  let make: Factories;
  let app: Client;
  let other: Client;
  let admin: string;
  let offlineApi: string;
  let n = 0;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    make = createFactories(t.deps);
    const grantTypes = ['password', 'refresh_token', 'authorization_code'];
    app = await make.client({ appType: 'regular_web', grantTypes, settings: { callbacks: [CALLBACK] } });
    other = await make.client({ grantTypes });
    await make.enableConnection(app.clientId);
    await make.enableConnection(other.clientId);
    offlineApi = (await make.api({ scopes: [{ value: 'read:a' }], allowOfflineAccess: true })).identifier;
    admin = await t.managementToken();
  });
  afterAll(async () => {
    await t.close();
  });

  /** A database user with a profile and metadata of its own. */
  const person = (tag: string, over: Partial<User> = {}) =>
    make.user({
      email: `${tag}.${n++}@example.com`,
      name: `${tag} name`,
      givenName: tag,
      userMetadata: { from: tag },
      appMetadata: { plan: tag },
      ...over,
    });

  const passwordGrant = (who: User, audience: string, scope: string, client: Client = app) =>
    t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: {
        grant_type: 'password',
        username: who.email,
        password: PASSWORD,
        audience,
        scope,
        client_id: client.clientId,
        client_secret: client.clientSecret,
      },
    });
  /** A user token for the Management API through the password grant, with the ID token of the sign-in. */
  const signIn = async (who: User, client: Client = app): Promise<Tokens> => {
    // The Management API takes tokens for itself alone: openid would add the userinfo audience.
    const res = await passwordGrant(who, MGMT_AUDIENCE, CURRENT_USER, client);
    expect(res.statusCode).toBe(200);
    const oidc = await passwordGrant(who, offlineApi, 'openid email profile', client);
    expect(oidc.statusCode).toBe(200);
    return { access_token: res.json<Tokens>().access_token, id_token: oidc.json<Tokens>().id_token ?? '' };
  };
  const link = (primary: string, body: unknown, token = admin) =>
    api(t.app, { method: 'POST', url: `${path(primary)}/identities`, token, body });
  const unlink = (primary: string, secondary: string, token = admin) =>
    api(t.app, {
      method: 'DELETE',
      url: `${path(primary)}/identities/auth0/${encodeURIComponent(secondary.slice(6))}`,
      token,
    });
  const byId = (u: User) => ({ provider: 'auth0', user_id: u.userId.slice(6) });
  const get = (id: string) => api(t.app, { method: 'GET', url: path(id), token: admin });

  it('links with the secondary ID token and a current-user token: 201 with the identities, the secondary gone', async () => {
    const primary = await person('primary');
    const secondary = await person('secondary', { username: undefined, phoneNumber: '+15550100' });
    const mine = await signIn(primary);
    expect(mine.access_token).toBeDefined();
    expect(jwtPayload(mine.access_token)).toMatchObject({ sub: primary.userId, azp: app.clientId });
    const theirs = await signIn(secondary);

    const res = await link(primary.userId, { link_with: theirs.id_token }, mine.access_token);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual([
      own(primary),
      {
        ...own(secondary),
        profileData: {
          email: secondary.email,
          email_verified: true,
          name: 'secondary name',
          given_name: 'secondary',
          family_name: 'User',
          phone_number: '+15550100',
          phone_verified: false,
        },
      },
    ]);
    expect((await get(secondary.userId)).statusCode).toBe(404);
    // Auth0: the primary's metadata stays, the secondary's is discarded, never merged.
    const after = (await get(primary.userId)).json<Record<string, unknown>>();
    expect(after).toMatchObject({
      user_id: primary.userId,
      email: primary.email,
      user_metadata: { from: 'primary' },
      app_metadata: { plan: 'primary' },
      identities: res.json(),
    });
    // The secondary's access token no longer acts: its user is gone.
    const stale = await api(t.app, {
      method: 'GET',
      url: path(secondary.userId),
      token: theirs.access_token,
    });
    expect(stale.statusCode).toBe(401);
  });

  it('signs the secondary in as the primary (password grant and the login page) and finds the primary by its email', async () => {
    const primary = await person('p');
    const secondary = await person('s');
    expect((await link(primary.userId, byId(secondary))).statusCode).toBe(201);

    const grant = await passwordGrant(secondary, offlineApi, 'openid email');
    expect(grant.statusCode).toBe(200);
    const tokens = grant.json<Tokens>();
    expect(jwtPayload(tokens.access_token)['sub']).toBe(primary.userId);
    expect(jwtPayload(tokens.id_token ?? '')).toMatchObject({ sub: primary.userId, email: primary.email });

    const jar = new CookieJar();
    const start = await authorize(
      t.app,
      {
        client_id: app.clientId,
        redirect_uri: CALLBACK,
        response_type: 'code',
        scope: 'openid email',
        state: 'st',
        nonce: 'nonce-1',
      },
      jar,
    );
    expect(start.statusCode).toBe(302);
    const { result } = await loginThroughPage(t.app, String(start.headers['location']), jar, {
      username: secondary.email ?? '',
      password: PASSWORD,
    });
    expect(result.statusCode).toBe(302);
    const code = new URL(String(result.headers['location'])).searchParams.get('code') ?? '';
    const exchanged = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({
        grant_type: 'authorization_code',
        client_id: app.clientId,
        client_secret: app.clientSecret,
        redirect_uri: CALLBACK,
        code,
      }),
    });
    expect(exchanged.statusCode).toBe(200);
    expect(jwtPayload(exchanged.json<Tokens>().id_token ?? '')['sub']).toBe(primary.userId);

    const search = await api(t.app, {
      method: 'GET',
      url: `/api/v2/users?q=${encodeURIComponent(`email:"${(secondary.email ?? '').toUpperCase()}"`)}`,
      token: admin,
    });
    expect(search.json<{ user_id: string }[]>().map((u) => u.user_id)).toEqual([primary.userId]);
    const byEmail = await api(t.app, {
      method: 'GET',
      url: `/api/v2/users-by-email?email=${encodeURIComponent(secondary.email ?? '')}`,
      token: admin,
    });
    expect(byEmail.json<{ user_id: string }[]>().map((u) => u.user_id)).toEqual([primary.userId]);
  });

  it("ends the secondary's sessions and refresh tokens and drops its grants and MFA enrolments", async () => {
    const primary = await person('p');
    const secondary = await person('s');
    const offline = await passwordGrant(secondary, offlineApi, 'openid offline_access read:a');
    const refreshToken = offline.json<Tokens>().refresh_token ?? '';
    expect(refreshToken).not.toBe('');
    const jar = new CookieJar();
    const params = {
      client_id: app.clientId,
      redirect_uri: CALLBACK,
      response_type: 'code',
      scope: 'openid',
      state: 'st',
      nonce: 'nonce-1',
    };
    const start = await authorize(t.app, params, jar);
    const { result } = await loginThroughPage(t.app, String(start.headers['location']), jar, {
      username: secondary.email ?? '',
      password: PASSWORD,
    });
    expect(result.statusCode).toBe(302);
    // The session signs the secondary in again without a password.
    expect(String((await authorize(t.app, params, jar)).headers['location'])).toMatch(
      /^https:\/\/app\.example\.com\/callback\?code=/,
    );
    await t.deps.store.mfaEnrolments.insert({
      id: `totp|dev_${String(n++)}`,
      userId: secondary.userId,
      type: 'totp',
      secret: 'JBSWY3DPEHPK3PXP',
      codeHash: undefined,
      confirmed: true,
      name: undefined,
      createdAt: new Date(t.clock.now()).toISOString(),
      enrolledAt: new Date(t.clock.now()).toISOString(),
      lastAuthAt: undefined,
    });

    expect((await link(primary.userId, byId(secondary))).statusCode).toBe(201);

    const refreshed = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: {
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: app.clientId,
        client_secret: app.clientSecret,
      },
    });
    expect(refreshed.statusCode).toBe(403);
    expect(refreshed.json()).toMatchObject({ error: 'invalid_grant' });
    // The old session cookie no longer signs anyone in: the login page again.
    expect(String((await authorize(t.app, params, jar)).headers['location'])).toMatch(/^\/u\/login\?state=/);
    const grants = await api(t.app, {
      method: 'GET',
      url: `/api/v2/grants?user_id=${encodeURIComponent(secondary.userId)}`,
      token: admin,
    });
    expect(grants.json()).toEqual([]);
    expect(await t.deps.store.mfaEnrolments.listConfirmed(secondary.userId)).toEqual([]);
    expect(await t.deps.store.mfaEnrolments.listConfirmed(primary.userId)).toEqual([]);
  });

  it('refuses link_with tokens that are expired, for another application, forged or not ID tokens', async () => {
    const primary = await person('p');
    const secondary = await person('s');
    const mine = (await signIn(primary)).access_token;
    const refused = async (linkWith: string, message: string) => {
      const res = await link(primary.userId, { link_with: linkWith }, mine);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message,
        errorCode: 'invalid_body',
      });
    };
    await refused(
      (await signIn(secondary, other)).id_token ?? '',
      "link_with's audience (aud) must be the application the access token was issued to (its azp).",
    );
    await refused('not-a-jwt', 'link_with is not a JSON Web Token.');
    const hs256 = await new SignJWT({ sub: secondary.userId })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(TEST_ISSUER)
      .setAudience(app.clientId)
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(app.clientSecret));
    await refused(hs256, 'link_with must be an ID token signed with RS256.');
    const foreign = await generateKeyPair('RS256');
    const kid = String(jwtHeader((await signIn(secondary)).id_token ?? '')['kid']);
    const forged = await new SignJWT({ sub: secondary.userId })
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuer(TEST_ISSUER)
      .setAudience(app.clientId)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(foreign.privateKey);
    await refused(forged, 'link_with has an invalid signature.');
    // Another tenant's ID token: a key this tenant does not publish.
    const elsewhere = await new SignJWT({ sub: secondary.userId })
      .setProtectedHeader({ alg: 'RS256', kid: 'another-tenants-key' })
      .setIssuer(TEST_ISSUER)
      .setAudience(app.clientId)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(foreign.privateKey);
    await refused(elsewhere, "link_with was not signed by one of this tenant's keys.");
    const now = Math.floor(t.clock.now() / 1000);
    const otherIssuer = await t.deps.signer.sign(
      { iss: 'https://elsewhere.test/', sub: secondary.userId, aud: app.clientId, iat: now, exp: now + 60 },
      { alg: 'RS256', typ: 'JWT' },
    );
    await refused(otherIssuer, `link_with was not issued by ${TEST_ISSUER}.`);
    // The primary's own access token is no ID token of this application.
    await refused(
      mine,
      "link_with's audience (aud) must be the application the access token was issued to (its azp).",
    );
    const expiring = (await signIn(secondary)).id_token ?? '';
    t.clock.advance(((jwtPayload(expiring)['exp'] as number) - now + 1) * 1000);
    const fresh = (await signIn(primary)).access_token;
    const res = await link(primary.userId, { link_with: expiring }, fresh);
    expect(res.json()).toMatchObject({ statusCode: 400, message: 'link_with has expired.' });
    expect((await get(secondary.userId)).statusCode).toBe(200);
  });

  it('lets a current-user token link only to its own user, and only by link_with', async () => {
    const primary = await person('p');
    const secondary = await person('s');
    const mine = (await signIn(primary)).access_token;
    const theirs = (await signIn(secondary)).id_token;
    const elsewhere = await link(secondary.userId, { link_with: theirs }, mine);
    expect(elsewhere.statusCode).toBe(403);
    expect(elsewhere.json()).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: 'User to be acted on does not match subject in bearer token.',
      errorCode: 'insufficient_scope',
    });
    const direct = await link(primary.userId, byId(secondary), mine);
    expect(direct.statusCode).toBe(403);
    expect(direct.json()).toMatchObject({ errorCode: 'insufficient_scope' });
    const unscoped = await passwordGrant(primary, MGMT_AUDIENCE, 'read:current_user');
    const noScope = await link(primary.userId, { link_with: theirs }, unscoped.json<Tokens>().access_token);
    expect(noScope.json()).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: 'Insufficient scope, expected any of: update:users, update:current_user_identities',
      errorCode: 'insufficient_scope',
    });
    expect((await get(secondary.userId)).statusCode).toBe(200);
  });

  it('answers 409 for a linked or the same account, 404 for an unknown primary, 400 for an unknown secondary', async () => {
    const primary = await person('p');
    const secondary = await person('s');
    const third = await person('t');
    expect((await link(primary.userId, byId(secondary))).statusCode).toBe(201);
    const conflict = {
      statusCode: 409,
      error: 'Conflict',
      message: 'Specified identity already exists.',
      errorCode: 'conflict',
    };
    expect((await link(primary.userId, byId(secondary))).json()).toEqual(conflict);
    expect((await link(third.userId, byId(secondary))).json()).toEqual(conflict);
    expect((await link(third.userId, byId(third))).json()).toEqual(conflict);
    expect((await link(third.userId, { provider: 'auth0', user_id: 'nobody' })).json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'The secondary account does not exist.',
      errorCode: 'invalid_body',
    });
    expect((await link('auth0|nobody', byId(third))).json()).toMatchObject({
      statusCode: 404,
      errorCode: 'inexistent_user',
    });
    // A secondary that has accounts of its own linked must be unlinked first.
    expect((await link(third.userId, byId(primary))).json()).toMatchObject({ statusCode: 400 });
    expect((await link(third.userId, {})).json()).toMatchObject({ statusCode: 400 });
    expect((await link(third.userId, { link_with: 'x', provider: 'auth0' })).json()).toMatchObject({
      statusCode: 400,
    });
    const connection = await t.deps.store.connections.findByName(DB);
    expect(
      (await link(third.userId, { ...byId(await person('c')), connection_id: connection?.id })).statusCode,
    ).toBe(201);
    expect(
      (await link(third.userId, { ...byId(await person('c')), connection_id: 'con_nope' })).json(),
    ).toMatchObject({ statusCode: 400, errorCode: 'inexistent_connection' });
    // Deleting the primary deletes its linked accounts too (Auth0).
    expect((await api(t.app, { method: 'DELETE', url: path(primary.userId), token: admin })).statusCode).toBe(
      204,
    );
    expect((await link(third.userId, byId(secondary))).json()).toMatchObject({ statusCode: 400 });
  });

  it('deleting a connection removes its accounts linked to users of other connections, not those users', async () => {
    const created = await api(t.app, {
      method: 'POST',
      url: '/api/v2/connections',
      token: admin,
      body: { name: `Other-DB-${String(n++)}`, strategy: 'auth0' },
    });
    expect(created.statusCode).toBe(201);
    const connection = created.json<{ id: string; name: string }>();
    const primary = await person('p');
    const elsewhere = await make.user({
      email: `elsewhere.${String(n++)}@example.com`,
      connection: connection.name,
    });
    expect((await link(primary.userId, byId(elsewhere))).statusCode).toBe(201);
    expect(
      (await api(t.app, { method: 'DELETE', url: `/api/v2/connections/${connection.id}`, token: admin }))
        .statusCode,
    ).toBe(202);
    expect((await get(primary.userId)).json()).toMatchObject({ identities: [own(primary)] });
    expect((await get(elsewhere.userId)).statusCode).toBe(404);
  });

  it('unlinks: 200 with the remaining identities, the account standalone again with only its profileData', async () => {
    const primary = await person('p');
    const secondary = await person('s');
    const before = await signIn(secondary);
    t.clock.advance(2000);
    const linked = await link(primary.userId, byId(secondary));
    expect(linked.statusCode).toBe(201);
    expect(jwtPayload((await signIn(secondary)).access_token)['sub']).toBe(primary.userId);

    const mine = (await signIn(primary)).access_token;
    const res = await unlink(primary.userId, secondary.userId, mine);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual([own(primary)]);
    const standalone = await get(secondary.userId);
    expect(standalone.statusCode).toBe(200);
    expect(standalone.json()).toEqual({
      user_id: secondary.userId,
      email: secondary.email,
      email_verified: true,
      name: 's name',
      given_name: 's',
      family_name: 'User',
      created_at: expect.any(String),
      updated_at: expect.any(String),
      identities: [own(secondary)],
      logins_count: 0,
    });
    const again = await signIn(secondary);
    expect(jwtPayload(again.access_token)['sub']).toBe(secondary.userId);
    expect((await get(primary.userId)).json()).toMatchObject({ identities: [own(primary)] });
    // A token the account had before it was linked does not act for the account unlinked from it.
    const stale = await api(t.app, {
      method: 'GET',
      url: path(secondary.userId),
      token: before.access_token,
    });
    expect(stale.statusCode).toBe(401);
  });

  it('refuses to unlink the main identity, an identity not linked, or another user with a current-user token', async () => {
    const primary = await person('p');
    const secondary = await person('s');
    const loner = await person('l');
    expect((await link(primary.userId, byId(secondary))).statusCode).toBe(201);
    expect((await unlink(primary.userId, primary.userId)).json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'Main identity cannot be removed.',
      errorCode: 'invalid_uri',
    });
    expect((await unlink(primary.userId, loner.userId)).json()).toMatchObject({ statusCode: 404 });
    expect((await unlink('auth0|nobody', secondary.userId)).json()).toMatchObject({
      statusCode: 404,
      errorCode: 'inexistent_user',
    });
    const lonerToken = (await signIn(loner)).access_token;
    expect((await unlink(primary.userId, secondary.userId, lonerToken)).json()).toMatchObject({
      statusCode: 403,
      message: 'User to be acted on does not match subject in bearer token.',
    });
    expect((await get(primary.userId)).json<{ identities: unknown[] }>().identities).toHaveLength(2);
  });
});
