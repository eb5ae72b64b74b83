import formbody from '@fastify/formbody';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerTokenError, InvalidClient, OAuthError, TooManyRequestsOAuth } from '../errors/oauth.js';
import { authenticatedRequests, scopeCheck, type AuthFailure } from '../server/authenticated-request.js';
import type { Deps } from '../server/deps.js';
import { addressKey, failedAuthHooks } from '../server/failed-auth-limit.js';
import { resourceDpop } from '../server/resource-dpop.js';
import { createTokenEndpointDeps } from '../server/token-endpoint-deps.js';
import { corsOnSend, preflightHandler } from '../server/cors.js';
import { authenticateClient, namedClientId } from './client-auth/index.js';
import {
  JWKS_DISCOVERY,
  REVOCATION_ENDPOINT_DISCOVERY,
  TOKEN_ENDPOINT_DISCOVERY,
  USERINFO_ENDPOINT_DISCOVERY,
} from './discovery.js';
import { parseTokenParams, requiredString } from './params.js';
import { subjectProblem } from './tokens/subject-standing.js';
import { hashRefreshToken } from './tokens/user-tokens.js';
import { userinfoClaims } from './userinfo.js';
import { handleTokenRequest } from './token-endpoint.js';
import {
  tokenFailureEvent,
  tokenSuccessEvents,
  type RequestFacts,
  type TokenAudit,
} from '../logs/token-events.js';

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/** The Authentication API: discovery, JWKS, token, revocation and userinfo. */
export const oauthRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  await app.register(formbody);
  const tokenDeps = createTokenEndpointDeps(deps, app.log);
  const now = () => deps.clock.now();
  const address = (req: { ip: string }) => addressKey(deps.tenantId, req.ip);
  // Unknown clients, wrong secrets and bad assertions count against the caller's address.
  const clientAuthFailures = failedAuthHooks({
    limiter: deps.failedAuth,
    key: address,
    tooManyRequests: () => new TooManyRequestsOAuth(),
    isFailure: (err) => err instanceof InvalidClient,
    now,
  });
  // CORS (server/cors.ts): preflights are checked against every application's origins, actual requests
  // against those of the application the request is for.
  const tenantOrigins = () => deps.lookups.tenantOrigins();
  for (const url of ['/oauth/token', '/oauth/revoke']) {
    app.options(url, preflightHandler({ methods: ['POST'], tenantOrigins }));
  }
  app.options('/userinfo', preflightHandler({ methods: ['GET'], tenantOrigins }));
  const namedClient = async (req: FastifyRequest) => {
    const body = isRecord(req.body) ? req.body : {};
    const clientId = namedClientId(body, req.headers.authorization);
    return clientId === undefined ? undefined : deps.lookups.client(clientId);
  };
  // `azp` in Auth0's dialect, `client_id` in RFC 9068's.
  const tokenClient = async (req: FastifyRequest) => {
    const clientId = req.auth?.clientId ?? req.auth?.claims['client_id'];
    return typeof clientId === 'string' ? deps.lookups.client(clientId) : undefined;
  };
  // Refusals answer generically (a failed client authentication never says which check failed); why is logged.
  const endpointHooks = {
    onRequest: clientAuthFailures.onRequest,
    onSend: corsOnSend(namedClient),
    onError: [
      clientAuthFailures.onError,
      async (req: FastifyRequest, _reply: FastifyReply, err: Error) => {
        if (err instanceof OAuthError && err.detail !== undefined) {
          req.log.info({ error: err.code, detail: err.detail }, 'token endpoint refusal');
        }
      },
    ],
  };

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

  await app.register(async (userinfo) => {
    const realm = deps.config.issuer;
    await userinfo.register(authenticatedRequests, {
      tokens: deps.verifiedTokens,
      now,
      audience: `${deps.config.issuer}userinfo`,
      audienceRule: 'includes',
      schemes: ['Bearer', 'DPoP'],
      dpop: resourceDpop(deps, undefined),
      failure: (failure) => userinfoAuthError(realm, failure),
      failedAuth: {
        limiter: deps.failedAuth,
        key: address,
        tooManyRequests: () => new TooManyRequestsOAuth(),
      },
      subject: async (auth) => {
        const user = await deps.store.users.findById(auth.sub);
        const problem = subjectProblem(user, auth.claims.iat ?? 0);
        if (!user || problem !== undefined) {
          const gone = problem === 'blocked' ? 'The user is blocked' : 'The user no longer exists';
          throw bearerTokenError(realm, 'invalid_token', gone);
        }
        return user;
      },
    });
    userinfo.get(
      '/userinfo',
      {
        config: { discovery: USERINFO_ENDPOINT_DISCOVERY },
        onSend: corsOnSend(tokenClient),
        preHandler: scopeCheck((req) => {
          if (req.auth?.scopes.has('openid') !== true) {
            throw bearerTokenError(realm, 'insufficient_scope', 'The token was not granted openid');
          }
        }),
      },
      async (req, reply) => {
        void reply.headers(NO_STORE);
        // The subject hook has loaded the user or refused the request.
        if (!req.user) throw bearerTokenError(realm, 'invalid_token', 'The user no longer exists');
        return userinfoClaims(req.user, req.auth?.claims.scope);
      },
    );
  });

  app.post(
    '/oauth/revoke',
    { bodyLimit: 64 * 1024, config: { discovery: REVOCATION_ENDPOINT_DISCOVERY }, ...endpointHooks },
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
        const at = Math.floor(deps.clock.now() / 1000);
        await deps.store.refreshTokens.revokeFamily(record.familyId, at, 'revoked');
        const facts = requestFacts(req);
        deps.events.record({
          type: 'srrt',
          description: 'Refresh token revoked',
          clientId: client.clientId,
          clientName: client.name,
          userId: record.userId,
          audience: record.audience,
          ip: facts.ip,
          userAgent: facts.userAgent,
          hostname: facts.hostname,
        });
      }
      return reply.headers(NO_STORE).status(200).send();
    },
  );

  app.post(
    '/oauth/token',
    { bodyLimit: 64 * 1024, config: { discovery: TOKEN_ENDPOINT_DISCOVERY }, ...endpointHooks },
    async (req, reply) => {
      const reloading = deps.keystore.ensureFresh();
      if (reloading) await reloading;
      const audit: TokenAudit = {};
      const facts = requestFacts(req);
      const dpop = req.headers['dpop'];
      // RFC 9449 §8.2: a DPoP request learns the current nonce from every answer, errors included.
      if (dpop !== undefined) void reply.header('dpop-nonce', deps.dpopNonces.current());
      let response;
      try {
        response = await handleTokenRequest(
          {
            body: req.body,
            authorization: req.headers.authorization,
            ip: req.ip,
            userAgent: facts.userAgent,
            audit,
            ...(dpop !== undefined ? { dpop } : {}),
          },
          tokenDeps,
        );
      } catch (error) {
        deps.events.record(tokenFailureEvent(audit, facts, error));
        throw error;
      }
      for (const event of tokenSuccessEvents(audit, facts, response.scope)) deps.events.record(event);
      return reply.headers(NO_STORE).send(response);
    },
  );
};

function requestFacts(req: FastifyRequest): RequestFacts {
  return { ip: req.ip, userAgent: req.headers['user-agent'], hostname: req.hostname };
}

/** RFC 6750 §3.1: a request without a usable bearer header is invalid_request, a bad token invalid_token. */
function userinfoAuthError(realm: string, failure: AuthFailure): OAuthError {
  if (failure.dpop)
    return new OAuthError(failure.dpop.error, failure.message, 401, undefined, failure.dpop.challenge);
  return failure.reason === 'missing' || failure.reason === 'bad_header'
    ? bearerTokenError(realm, 'invalid_request', 'Missing access token')
    : bearerTokenError(realm, 'invalid_token', failure.message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
