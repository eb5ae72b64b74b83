import { generateKeyPairSync } from 'node:crypto';
import { Agent } from 'node:https';
import { ManagementClient } from 'auth0';
import { AuthenticationClient, UserInfoClient, type AuthApiError } from 'auth0/legacy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { jwtPayload } from '../../helpers/http.js';
import { startTlsProxy, type TlsProxy } from '../../helpers/tls-proxy.js';

const PASSWORD = 'Pass-word-123';
const DB = 'Username-Password-Authentication';

// auth0 v7 ships no AuthenticationClient or UserInfoClient in its main entry point: they live in its
// `auth0/legacy` entry point (the v4 API). They run here against a listening server behind an https proxy,
// because they verify ID tokens against https://{domain}/.well-known/jwks.json themselves.
describe.each(testBackends())(
  'auth0 v7 AuthenticationClient and UserInfoClient (auth0/legacy) on $name',
  (backend) => {
    let proxy: TlsProxy;
    let t: TestApp;
    let make: Factories;
    let app: Client;
    let apiId: string;
    let auth: AuthenticationClient;
    let origin: string;
    const sent: string[] = [];

    /** The SDK's requests go to the http listener; only the ID-token key fetch crosses the https proxy. */
    const local: typeof fetch = async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : input.toString());
      const body =
        init?.body instanceof URLSearchParams || typeof init?.body === 'string' ? init.body.toString() : '';
      sent.push(`${init?.method ?? 'GET'} ${url.pathname} ${body}`);
      const { dispatcher: _dispatcher, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
      return fetch(`${origin}${url.pathname}${url.search}`, rest);
    };
    const clientOptions = () => ({
      domain: proxy.domain,
      fetch: local,
      // jose (inside the SDK) fetches the JWKS with this agent; the SDK hands it to fetch too, `local` drops it.
      agent: new Agent({ ca: proxy.certPem }) as never,
    });

    beforeAll(async () => {
      proxy = await startTlsProxy();
      t = await buildTestApp(backend, { issuer: `https://${proxy.domain}/` });
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const address = t.app.server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      proxy.forwardTo(port);
      origin = `http://127.0.0.1:${String(port)}`;
      make = createFactories(t.deps);
      app = await make.client({
        appType: 'regular_web',
        grantTypes: [
          'client_credentials',
          'password',
          'http://auth0.com/oauth/grant-type/password-realm',
          'refresh_token',
        ],
      });
      await make.enableConnection(app.clientId);
      const api = await make.api({
        allowOfflineAccess: true,
        scopes: [{ value: 'read:x' }, { value: 'write:x' }],
      });
      apiId = api.identifier;
      await make.grant({ clientId: app.clientId, audience: apiId, scope: ['read:x'] });
      await make.user({ email: 'sdk.user@example.com', name: 'SDK User', password: PASSWORD });
      auth = new AuthenticationClient({
        ...clientOptions(),
        clientId: app.clientId,
        clientSecret: app.clientSecret,
      });
    });
    afterAll(async () => {
      await t.close();
      await proxy.close();
    });

    it('oauth.clientCredentialsGrant sends client_credentials with the secret in the form body', async () => {
      const { data, status } = await auth.oauth.clientCredentialsGrant({ audience: apiId });
      expect(status).toBe(200);
      expect(data).toEqual({
        access_token: expect.any(String),
        scope: 'read:x',
        expires_in: 86400,
        token_type: 'Bearer',
      });
      expect(sent.at(-1)).toBe(
        `POST /oauth/token client_id=${app.clientId}&audience=${encodeURIComponent(apiId)}&client_secret=${app.clientSecret}&grant_type=client_credentials`,
      );
      expect(jwtPayload(data.access_token)).toMatchObject({
        sub: `${app.clientId}@clients`,
        gty: 'client-credentials',
      });
    });

    it('oauth.clientCredentialsGrant authenticates with private_key_jwt (clientAssertionSigningKey)', async () => {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const keyed = await make.client({ grantTypes: ['client_credentials'], tokenEndpointAuthMethod: null });
      const m = new ManagementClient({
        domain: 'unused.example',
        token: await t.managementToken(),
        fetch: local,
      });
      const credential = await m.clients.credentials.create(keyed.clientId, {
        credential_type: 'public_key',
        pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      });
      await m.clients.update(keyed.clientId, {
        client_authentication_methods: { private_key_jwt: { credentials: [{ id: credential.id ?? '' }] } },
      });
      await make.grant({ clientId: keyed.clientId, audience: apiId, scope: ['write:x'] });
      const assertingClient = new AuthenticationClient({
        ...clientOptions(),
        clientId: keyed.clientId,
        clientAssertionSigningKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      });
      const { data } = await assertingClient.oauth.clientCredentialsGrant({ audience: apiId });
      expect(data).toMatchObject({ scope: 'write:x', token_type: 'Bearer' });
      expect(sent.at(-1)).toMatch(
        /client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer/,
      );
    });

    it('oauth.passwordGrant (password and password-realm), refreshTokenGrant, revokeRefreshToken, getUserInfo', async () => {
      const { data: tokens } = await auth.oauth.passwordGrant({
        username: 'sdk.user@example.com',
        password: PASSWORD,
        audience: apiId,
        scope: 'openid profile email read:x offline_access',
      });
      // The SDK has already verified the ID token (signature against the JWKS, iss, aud, exp).
      expect(tokens).toEqual({
        access_token: expect.any(String),
        id_token: expect.any(String),
        refresh_token: expect.any(String),
        scope: 'openid profile email read:x offline_access',
        expires_in: 86400,
        token_type: 'Bearer',
      });
      expect(sent.at(-1)).toMatch(/^POST \/oauth\/token .*grant_type=password$/);
      expect(jwtPayload(tokens.id_token ?? '')).toMatchObject({
        iss: `https://${proxy.domain}/`,
        aud: app.clientId,
        email: 'sdk.user@example.com',
      });

      const { data: realm } = await auth.oauth.passwordGrant({
        username: 'sdk.user@example.com',
        password: PASSWORD,
        realm: DB,
        scope: 'openid',
      });
      expect(realm).toEqual({
        access_token: expect.any(String),
        id_token: expect.any(String),
        scope: 'openid',
        expires_in: 86400,
        token_type: 'Bearer',
      });
      expect(sent.at(-1)).toMatch(
        /realm=Username-Password-Authentication.*grant_type=http%3A%2F%2Fauth0\.com%2Foauth%2Fgrant-type%2Fpassword-realm$/,
      );

      const { data: refreshed } = await auth.oauth.refreshTokenGrant({
        refresh_token: tokens.refresh_token ?? '',
      });
      expect(refreshed).toEqual({
        access_token: expect.any(String),
        id_token: expect.any(String),
        scope: 'openid profile email read:x offline_access',
        expires_in: 86400,
        token_type: 'Bearer',
      });
      expect(sent.at(-1)).toMatch(/^POST \/oauth\/token .*grant_type=refresh_token$/);

      const userInfo = new UserInfoClient(clientOptions());
      const { data: profile } = await userInfo.getUserInfo(refreshed.access_token);
      expect(sent.at(-1)).toBe('GET /userinfo ');
      expect(profile).toMatchObject({
        sub: expect.stringMatching(/^auth0\|/),
        email: 'sdk.user@example.com',
        name: 'SDK User',
      });

      const revoked = await auth.oauth.revokeRefreshToken({ token: tokens.refresh_token ?? '' });
      expect(revoked.status).toBe(200);
      expect(JSON.parse(sent.at(-1)?.slice('POST /oauth/revoke '.length) ?? '{}')).toEqual({
        client_id: app.clientId,
        client_secret: app.clientSecret,
        token: tokens.refresh_token,
      });
      await expect(
        auth.oauth.refreshTokenGrant({ refresh_token: tokens.refresh_token ?? '' }),
      ).rejects.toMatchObject({
        statusCode: 403,
        error: 'invalid_grant',
      } satisfies Partial<AuthApiError>);
    });

    it('turns a refused login into AuthApiError', async () => {
      await expect(
        auth.oauth.passwordGrant({ username: 'sdk.user@example.com', password: 'wrong-password', realm: DB }),
      ).rejects.toMatchObject({
        statusCode: 403,
        error: 'invalid_grant',
        error_description: 'Wrong email or password.',
      });
    });
  },
);
