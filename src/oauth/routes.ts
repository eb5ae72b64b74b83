import formbody from '@fastify/formbody';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Deps } from '../server/deps.js';
import { renderOAuthError } from '../server/render-oauth-error.js';
import { authenticateClient } from './client-auth/index.js';
import {
  JWKS_DISCOVERY,
  REVOCATION_ENDPOINT_DISCOVERY,
  TOKEN_ENDPOINT_DISCOVERY,
  USERINFO_ENDPOINT_DISCOVERY,
} from './discovery.js';
import { parseTokenParams, requiredString } from './params.js';
import { hashRefreshToken } from './tokens/user-tokens.js';
import { userinfo } from './userinfo.js';
import { handleTokenRequest } from './token-endpoint.js';
import { createTokenEndpointDeps } from '../server/token-endpoint-deps.js';

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/** The Authentication API: discovery, JWKS, token, revocation and userinfo. */
export const oauthRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  await app.register(formbody);
  app.setErrorHandler((err, req, reply) => {
    const rendered = renderOAuthError(err);
    if (rendered.status >= 500) req.log.error({ err }, 'oauth error');
    return reply.status(rendered.status).headers(rendered.headers).send(rendered.body);
  });
  const tokenDeps = createTokenEndpointDeps(deps);

  // Built from the `discovery` entries of the routes registered (see meta/discovery-registry.ts).
  app.get('/.well-known/openid-configuration', async (_req, reply) => {
    void reply.header('cache-control', 'public, max-age=300');
    return app.discoveryDocument();
  });

  app.get('/.well-known/jwks.json', { config: { discovery: JWKS_DISCOVERY } }, async (_req, reply) => {
    await deps.keystore.ensureFresh();
    const flags = (await deps.lookups.tenantSettings())['flags'];
    const removeAlg = isRecord(flags) && flags['remove_alg_from_jwks'] === true;
    void reply.header('cache-control', 'public, max-age=60');
    return deps.keystore.jwksDocument({ includeAlg: !removeAlg });
  });

  app.get('/userinfo', { config: { discovery: USERINFO_ENDPOINT_DISCOVERY } }, async (req, reply) => {
    void reply.headers(NO_STORE);
    const result = await userinfo(req.headers.authorization, {
      issuer: deps.config.issuer,
      nowSeconds: Math.floor(deps.clock.now() / 1000),
      publicKey: async (kid) => {
        await deps.keystore.ensureFresh();
        return deps.keystore.publicKey(kid);
      },
      findUser: (id) => deps.store.users.findById(id),
    });
    if (result.ok) return result.claims;
    // RFC 6750 §3.1: a valid token lacking the scope is 403; a missing or bad one is 401.
    return reply
      .status(result.error === 'insufficient_scope' ? 403 : 401)
      .header(
        'www-authenticate',
        `Bearer realm="${deps.config.issuer}", error="${result.error}", error_description="${result.description}"`,
      )
      .send({ error: result.error, error_description: result.description });
  });

  app.post(
    '/oauth/revoke',
    { bodyLimit: 64 * 1024, config: { discovery: REVOCATION_ENDPOINT_DISCOVERY } },
    async (req, reply) => {
      const params = parseTokenParams(req.body);
      const { client } = await authenticateClient(
        { params, authorization: req.headers.authorization },
        tokenDeps,
      );
      const token = requiredString(params, 'token');
      const record = await deps.store.refreshTokens.findByHash(hashRefreshToken(token));
      // RFC 7009 §2.2: an unknown or foreign token still answers 200, so token validity does not leak.
      if (record && record.clientId === client.clientId) {
        await deps.store.refreshTokens.revokeFamily(record.familyId, Math.floor(deps.clock.now() / 1000));
      }
      return reply.headers(NO_STORE).status(200).send();
    },
  );

  app.post(
    '/oauth/token',
    { bodyLimit: 64 * 1024, config: { discovery: TOKEN_ENDPOINT_DISCOVERY } },
    async (req, reply) => {
      await deps.keystore.ensureFresh();
      const response = await handleTokenRequest(
        { body: req.body, authorization: req.headers.authorization, ip: req.ip },
        tokenDeps,
      );
      return reply.headers(NO_STORE).send(response);
    },
  );
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
