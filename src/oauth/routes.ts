import formbody from '@fastify/formbody';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { randomUUID } from 'node:crypto';
import type { Deps } from '../server/deps.js';
import { renderOAuthError } from '../server/render-oauth-error.js';
import { discoveryDocument } from './discovery.js';
import { handleTokenRequest, type TokenEndpointDeps } from './token-endpoint.js';

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/** The Authentication API: discovery, JWKS and the token endpoint. */
export const oauthRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  await app.register(formbody);
  app.setErrorHandler((err, req, reply) => {
    const rendered = renderOAuthError(err);
    if (rendered.status >= 500) req.log.error({ err }, 'oauth error');
    return reply.status(rendered.status).headers(rendered.headers).send(rendered.body);
  });
  const tokenDeps = createTokenEndpointDeps(deps);
  const discovery = discoveryDocument(deps.config.issuer);

  app.get('/.well-known/openid-configuration', async (_req, reply) => {
    void reply.header('cache-control', 'public, max-age=300');
    return Promise.resolve(discovery);
  });

  app.get('/.well-known/jwks.json', async (_req, reply) => {
    await deps.keystore.ensureFresh();
    void reply.header('cache-control', 'public, max-age=60');
    return deps.keystore.jwksDocument();
  });

  app.post('/oauth/token', { bodyLimit: 64 * 1024 }, async (req, reply) => {
    await deps.keystore.ensureFresh();
    const response = await handleTokenRequest(
      { body: req.body, authorization: req.headers.authorization },
      tokenDeps,
    );
    return reply.headers(NO_STORE).send(response);
  });
};

function createTokenEndpointDeps(deps: Deps): TokenEndpointDeps {
  const nowSeconds = () => Math.floor(deps.clock.now() / 1000);
  return {
    issuer: deps.config.issuer,
    nowSeconds,
    newJti: () => randomUUID(),
    signer: deps.signer,
    findClient: (id) => deps.lookups.client(id),
    listCredentials: (id) => deps.store.clients.listCredentials(id),
    markJtiUsed: (clientId, jti, exp) => deps.store.usedJtis.markUsed(clientId, jti, exp, nowSeconds()),
    findApi: (identifier) => deps.lookups.resourceServer(identifier),
    findGrants: (clientId, audience) => deps.lookups.grants(clientId, audience),
  };
}
