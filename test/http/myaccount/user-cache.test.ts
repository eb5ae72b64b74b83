import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SERVER_SETTINGS } from '../../../src/config/schema.js';
import type { User } from '../../../src/domain/user.js';
import { USER_READ_LIMITS } from '../../../src/server/user-reads.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { api } from '../../helpers/http.js';
import { me, myAccountFixture, problem, type MyAccountFixture } from '../../helpers/myaccount.js';
import { createSoftAuthenticator, type SoftAuthenticator } from '../../helpers/soft-authenticator.js';

const ORIGIN = 'https://latchkey.test';
const GRANT = 'urn:okta:params:oauth:grant-type:webauthn';
const DB = 'Username-Password-Authentication';

interface Method {
  id: string;
  type: string;
  name?: string;
  last_auth_at?: string;
  last_password_reset?: string;
}

// My Account reads each user and their passkeys through a per-node cache (src/server/user-reads.ts): every
// write must show in the very next request, and a write the cache is not told of shows within its lifetime.
describe.each(testBackends())('the My Account user cache on $name', (backend) => {
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

  const mgmt = async (method: 'PATCH' | 'DELETE', url: string, body?: Record<string, unknown>) =>
    api(t.app, { method, url, token: await t.managementToken(), ...(body ? { body } : {}) });

  async function enrol(token: string, authenticator: SoftAuthenticator): Promise<Method> {
    const started = await me(t, 'POST', '/authentication-methods', token, { type: 'passkey' });
    expect(started.statusCode).toBe(202);
    const { auth_session, authn_params_public_key } = started.json<{
      auth_session: string;
      authn_params_public_key: PublicKeyCredentialCreationOptionsJSON;
    }>();
    const verified = await me(t, 'POST', '/authentication-methods/passkey%7Cnew/verify', token, {
      auth_session,
      authn_response: authenticator.register(authn_params_public_key, ORIGIN),
    });
    expect(verified.statusCode).toBe(201);
    return verified.json<Method>();
  }

  async function list(token: string): Promise<Method[]> {
    const res = await me(t, 'GET', '/authentication-methods', token);
    expect(res.statusCode).toBe(200);
    return res.json<{ authentication_methods: Method[] }>().authentication_methods;
  }

  const passkeyIds = async (token: string) =>
    (await list(token)).filter((m) => m.type === 'passkey').map((m) => m.id);

  async function userWithToken(): Promise<{ user: User; token: string }> {
    const user = await f.make.user();
    return { user, token: await f.tokenFor(user) };
  }

  it('lists a passkey enrolled, renamed and deleted through /me/v1 at once', async () => {
    const { token } = await userWithToken();
    expect(await passkeyIds(token)).toEqual([]);
    const first = await enrol(token, createSoftAuthenticator());
    expect(await passkeyIds(token)).toEqual([first.id]);
    // Passkeys are listed by creation time.
    t.clock.advance(1000);
    const second = await enrol(token, createSoftAuthenticator());
    expect(await passkeyIds(token)).toEqual([first.id, second.id]);
    const url = `/authentication-methods/${encodeURIComponent(first.id)}`;
    expect((await me(t, 'PATCH', url, token, { name: 'Work laptop' })).statusCode).toBe(200);
    expect((await list(token)).find((m) => m.id === first.id)?.name).toBe('Work laptop');
    expect((await me(t, 'DELETE', url, token)).statusCode).toBe(204);
    expect(await passkeyIds(token)).toEqual([second.id]);
  });

  it('stops listing a passkey the Management API deleted, on the next request', async () => {
    const { user, token } = await userWithToken();
    const enrolled = await enrol(token, createSoftAuthenticator());
    expect(await passkeyIds(token)).toEqual([enrolled.id]);
    const res = await mgmt(
      'DELETE',
      `/api/v2/users/${encodeURIComponent(user.userId)}/authentication-methods/${encodeURIComponent(enrolled.id)}`,
    );
    expect(res.statusCode).toBe(204);
    expect(await passkeyIds(token)).toEqual([]);
  });

  it('refuses the token of a user blocked through the Management API on the next request, and accepts it once unblocked', async () => {
    const { user, token } = await userWithToken();
    expect(await passkeyIds(token)).toEqual([]);
    const url = `/api/v2/users/${encodeURIComponent(user.userId)}`;
    expect((await mgmt('PATCH', url, { blocked: true })).statusCode).toBe(200);
    const refused = await me(t, 'GET', '/authentication-methods', token);
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toEqual(problem(401, 'Unauthorized', 'Invalid token'));
    expect((await mgmt('PATCH', url, { blocked: false })).statusCode).toBe(200);
    expect(await passkeyIds(token)).toEqual([]);
    expect((await mgmt('DELETE', url)).statusCode).toBe(204);
    expect((await me(t, 'GET', '/authentication-methods', token)).statusCode).toBe(401);
  });

  it('shows a password changed through the Management API on the next request', async () => {
    const { user, token } = await userWithToken();
    const before = (await list(token)).find((m) => m.type === 'password');
    expect(before).toBeDefined();
    expect(before?.last_password_reset).toBeUndefined();
    const url = `/api/v2/users/${encodeURIComponent(user.userId)}`;
    expect((await mgmt('PATCH', url, { password: 'Another-pass-word-456' })).statusCode).toBe(200);
    const after = (await list(token)).find((m) => m.type === 'password');
    expect(after?.last_password_reset).toBe(new Date(t.clock.now()).toISOString());
  });

  it('shows a write it was not told of once its entries expire (the bound on a lost invalidation)', async () => {
    // A user and a passkey written straight to storage, as by a node whose invalidation message was lost.
    const { user, token } = await userWithToken();
    expect(await passkeyIds(token)).toEqual([]);
    const passkey = {
      id: 'passkey|dev_writtenElsewhere0001',
      userId: user.userId,
      credentialId: 'd3JpdHRlbi1lbHNld2hlcmU',
      publicKey: 'cHVibGljLWtleQ',
      counter: 0,
      transports: ['internal'],
      deviceType: 'multiDevice' as const,
      backedUp: true,
      aaguid: '00000000-0000-0000-0000-000000000000',
      userHandle: Buffer.from(user.userId).toString('base64url'),
      name: undefined,
      userAgent: undefined,
      createdAt: new Date(t.clock.now()).toISOString(),
      lastUsedAt: undefined,
    };
    await t.deps.store.passkeys.insert(passkey);
    expect(await passkeyIds(token)).toEqual([]);
    t.clock.advance(USER_READ_LIMITS.ttlMs - 1);
    expect(await passkeyIds(token)).toEqual([]);
    t.clock.advance(2);
    expect(await passkeyIds(token)).toEqual([passkey.id]);
  });

  it('shows when a passkey was last used after a native passkey sign-in', async () => {
    const native = await f.make.client({ appType: 'native', grantTypes: [GRANT] });
    await f.make.enableConnection(native.clientId);
    const id = (await t.deps.store.connections.findByName(DB))?.id ?? '';
    const enabled = await mgmt('PATCH', `/api/v2/connections/${id}`, {
      options: { authentication_methods: { password: { enabled: true }, passkey: { enabled: true } } },
    });
    expect(enabled.statusCode).toBe(200);
    const { user, token } = await userWithToken();
    const authenticator = createSoftAuthenticator();
    const enrolled = await enrol(token, authenticator);
    expect((await list(token)).find((m) => m.id === enrolled.id)?.last_auth_at).toBeUndefined();
    const creds = { client_id: native.clientId, client_secret: native.clientSecret };
    const challenge = await t.app.inject({
      method: 'POST',
      url: '/passkey/challenge',
      payload: { ...creds, realm: DB },
    });
    expect(challenge.statusCode).toBe(200);
    const started = challenge.json<{
      auth_session: string;
      authn_params_public_key: Parameters<SoftAuthenticator['authenticate']>[0];
    }>();
    const signedIn = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: {
        grant_type: GRANT,
        ...creds,
        realm: DB,
        auth_session: started.auth_session,
        authn_response: authenticator.authenticate(started.authn_params_public_key, ORIGIN),
      },
    });
    expect(signedIn.statusCode).toBe(200);
    expect(user.userId).toBeTruthy();
    expect((await list(token)).find((m) => m.id === enrolled.id)?.last_auth_at).toBe(
      new Date(t.clock.now()).toISOString(),
    );
  });
});
