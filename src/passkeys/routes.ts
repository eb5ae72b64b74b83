import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { InvalidRequest, OAuthError, TooManyRequestsOAuth } from '../errors/oauth.js';
import { authenticateClient, CLIENT_AUTH_PARAMS } from '../oauth/client-auth/index.js';
import { optionalString, parseTokenParams } from '../oauth/params.js';
import { corsOnSend, preflightHandler } from '../server/cors.js';
import type { Deps } from '../server/deps.js';
import { addressKey, failedAuthHooks } from '../server/failed-auth-limit.js';
import { createTokenEndpointDeps } from '../server/token-endpoint-deps.js';
import {
  assertPasskeyClient,
  createNativePasskeys,
  parseMetadata,
  parseProfile,
  passkeyConnection,
  passkeysEnabled,
} from './native.js';

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };
// Client authentication as at the token endpoint (a secret, or a private_key_jwt assertion).
const CHALLENGE_PARAMS = new Set([...CLIENT_AUTH_PARAMS, 'realm', 'organization']);
const REGISTER_PARAMS = new Set([...CHALLENGE_PARAMS, 'user_profile', 'user_metadata']);

/**
 * Auth0's native passkey endpoints (spec 1.5), JSON in and `{error, error_description}` out. They start the
 * ceremonies; the webauthn grant of /oauth/token finishes them.
 */
export const passkeyRoutes: FastifyPluginAsync<{ deps: Deps }> = async (app, { deps }) => {
  const clientDeps = createTokenEndpointDeps(deps, app.log);
  const native = createNativePasskeys(deps);
  // Every refused request counts against the caller's address (spec 1.5: a per-IP limit, 429).
  const limit = failedAuthHooks({
    limiter: deps.failedAuth,
    key: (req: FastifyRequest) => addressKey(deps.tenantId, req.ip),
    tooManyRequests: () => new TooManyRequestsOAuth(),
    isFailure: (err) => err instanceof OAuthError && err.status < 500,
    now: () => deps.clock.now(),
  });
  // CORS as at the token endpoint: browser apps (auth0-spa-js's PasskeyApiClient) call these from their origins.
  const namedClient = async (req: FastifyRequest) => {
    const body = req.body;
    const id =
      typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['client_id'] : undefined;
    return typeof id === 'string' && id.length <= 128 ? deps.lookups.client(id) : undefined;
  };
  const tenantOrigins = () => deps.lookups.tenantOrigins();
  for (const url of ['/passkey/register', '/passkey/challenge']) {
    app.options(url, preflightHandler({ methods: ['POST'], tenantOrigins }));
  }
  const options = {
    bodyLimit: 64 * 1024,
    onRequest: limit.onRequest,
    onError: limit.onError,
    onSend: corsOnSend(namedClient),
  };

  /** The authenticated first-party client with the webauthn grant, and its passkey connection. */
  async function start(req: FastifyRequest, allowed: ReadonlySet<string>) {
    const params = parseTokenParams(req.body);
    const unknown = Object.keys(params).find((name) => !allowed.has(name));
    if (unknown !== undefined) throw new InvalidRequest(`Invalid parameter: ${unknown} is not allowed`);
    // Confidential clients authenticate in the body as at the token endpoint; Auth0 documents no Basic here.
    const { client } = await authenticateClient({ params, authorization: undefined }, clientDeps);
    assertPasskeyClient(client);
    const realm = optionalString(params, 'realm');
    if (realm !== undefined && realm.length > 128) {
      throw new InvalidRequest('Invalid parameter: realm must be at most 128 characters');
    }
    return { params, client, connection: await passkeyConnection(deps, client, realm) };
  }

  /**
   * Auth0 answers 404 while the Passkey APIs are off for the tenant; here they are on while a database
   * connection has passkeys enabled (a handful of rows, read only by these two endpoints).
   */
  const passkeysOff = async (): Promise<boolean> =>
    !(await deps.store.connections.list({ strategies: ['auth0'] }, { offset: 0, limit: 1_000 })).some(
      passkeysEnabled,
    );

  app.post('/passkey/register', options, async (req, reply) => {
    if (await passkeysOff()) throw new OAuthError('invalid_request', 'Not Found', 404);
    const { params, client, connection } = await start(req, REGISTER_PARAMS);
    const profile = parseProfile(params['user_profile']);
    const metadata = parseMetadata(params['user_metadata']);
    return reply
      .headers(NO_STORE)
      .send(await native.startRegistration(client, connection, profile, metadata));
  });

  app.post('/passkey/challenge', options, async (req, reply) => {
    if (await passkeysOff()) throw new OAuthError('invalid_request', 'Not Found', 404);
    const { client, connection } = await start(req, CHALLENGE_PARAMS);
    return reply.headers(NO_STORE).send(await native.startChallenge(client, connection));
  });
};
