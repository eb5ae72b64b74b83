import type { LightMyRequestResponse } from 'fastify';
import type { Client } from '../../src/domain/client.js';
import type { User } from '../../src/domain/user.js';
import { MY_ACCOUNT_SCOPES } from '../../src/management/resource-servers/my-account.js';
import { TEST_ISSUER, type TestApp } from './build-test-app.js';
import { createFactories, type Factories } from './factories.js';
import { api, form } from './http.js';

export const ME_AUDIENCE = `${TEST_ISSUER}me/`;
export const APP_ORIGIN = 'https://app.example.com';

/** A tenant with a first-party application that may get My Account tokens for its users (spec 2.5). */
export interface MyAccountFixture {
  readonly make: Factories;
  readonly client: Client;
  /** Creates the resource server `{issuer}me/` through the Management API and grants the application; returns its id. */
  activate(): Promise<string>;
  /** An access token for `user` from the password grant, with `openid` and `scopes` asked for. */
  tokenFor(user: User, scopes?: readonly string[]): Promise<string>;
}

export async function myAccountFixture(t: TestApp): Promise<MyAccountFixture> {
  const make = createFactories(t.deps);
  const client = await make.client({
    appType: 'regular_web',
    grantTypes: ['password', 'refresh_token'],
    settings: { web_origins: [APP_ORIGIN] },
  });
  await make.enableConnection(client.clientId);
  return {
    make,
    client,
    async activate() {
      const res = await api(t.app, {
        method: 'POST',
        url: '/api/v2/resource-servers',
        token: await t.managementToken(),
        body: { name: 'Auth0 My Account API', identifier: ME_AUDIENCE },
      });
      if (res.statusCode !== 201) throw new Error(`activate: ${res.statusCode} ${res.body}`);
      // Deleting the API deletes its grants: each activation grants the application again.
      await make.grant({
        clientId: client.clientId,
        audience: ME_AUDIENCE,
        subjectType: 'user',
        scope: [...MY_ACCOUNT_SCOPES],
      });
      t.deps.lookups.invalidate();
      return res.json<{ id: string }>().id;
    },
    async tokenFor(user, scopes = MY_ACCOUNT_SCOPES) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        ...form({
          grant_type: 'password',
          client_id: client.clientId,
          client_secret: client.clientSecret,
          username: user.email ?? '',
          password: 'Pass-word-123',
          audience: ME_AUDIENCE,
          scope: ['openid', ...scopes].join(' '),
        }),
      });
      if (res.statusCode !== 200) throw new Error(`token: ${res.statusCode} ${res.body}`);
      return res.json<{ access_token: string }>().access_token;
    },
  };
}

/** Calls /me/v1 as auth0-spa-js's MyAccountApiClient does: bearer token, JSON bodies. */
export function me(
  t: TestApp,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  token: string | undefined,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method,
    url: path.startsWith('http') ? new URL(path).pathname : `/me/v1${path}`,
    headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...headers },
    ...(body === undefined ? {} : { payload: body as object }),
  });
}

/** The problem body of spec 3.7. */
export function problem(status: number, title: string, detail: string, type?: string) {
  const types: Record<number, string> = {
    400: 'https://auth0.com/api-errors/A0E-400-0001',
    401: 'https://auth0.com/api-errors/A0E-401-0001',
    403: 'https://auth0.com/api-errors/A0E-403-0002',
    404: 'https://auth0.com/api-errors/A0E-404-0001',
    409: 'https://auth0.com/api-errors/A0E-409-0001',
  };
  return { type: type ?? types[status] ?? 'about:blank', status, title, detail };
}
