import formbody from '@fastify/formbody';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import {
  InvalidClient,
  InvalidGrant,
  InvalidRequest,
  OAuthError,
  TooManyRequestsOAuth,
} from '../errors/oauth.js';
import type { MfaTokenState } from '../mfa/mfa-token.js';
import { authenticateClient, CLIENT_AUTH_PARAMS, namedClientId } from '../oauth/client-auth/index.js';
import { optionalString, parseTokenParams, requiredString } from '../oauth/params.js';
import { corsOnSend, preflightHandler } from '../server/cors.js';
import type { Deps } from '../server/deps.js';
import { addressKey, failedAuthHooks } from '../server/failed-auth-limit.js';
import { createTokenEndpointDeps } from '../server/token-endpoint-deps.js';
import { createMfaApi, MALFORMED_TOKEN, type AssociateRequest, type OobChannel } from './service.js';

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };
const BEARER = /^Bearer +([\x21-\x7e]+) *$/i;
const CHALLENGE_PARAMS = new Set([
  ...CLIENT_AUTH_PARAMS,
  'mfa_token',
  'challenge_type',
  'authenticator_id',
  'oob_channel',
]);
const OOB_CHANNELS: readonly OobChannel[] = ['sms', 'voice', 'email'];

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Auth0's MFA API for embedded and native apps (spec 1.9): after a 403 `mfa_required`, the client lists,
 * enrols and challenges the user's factors with the `mfa_token`; the mfa-* grants of /oauth/token finish.
 */
export const mfaApiRoutes: FastifyPluginAsync<{ deps: Deps }> = async (app, { deps }) => {
  await app.register(formbody);
  // auth0-auth-js's MfaClient sends `Content-Type: application/json` without a body on GET and DELETE.
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text === '') {
      done(null, undefined);
      return;
    }
    void json(req, text, done);
  });
  const tokenDeps = createTokenEndpointDeps(deps, app.log);
  const mfa = createMfaApi(deps, app.log);
  // Wrong mfa_tokens and failed client authentications count against the caller's address.
  const limit = failedAuthHooks({
    limiter: deps.failedAuth,
    key: (req: FastifyRequest) => addressKey(deps.tenantId, req.ip),
    tooManyRequests: () => new TooManyRequestsOAuth(),
    isFailure: (err) =>
      err instanceof InvalidClient || (err instanceof OAuthError && err.code === 'invalid_token'),
    now: () => deps.clock.now(),
  });

  const bearerToken = (req: FastifyRequest): string | undefined =>
    BEARER.exec(req.headers.authorization ?? '')?.[1];

  /** The mfa_token in `Authorization: Bearer`, opened (it stays usable until a grant takes it). */
  async function bearerState(req: FastifyRequest): Promise<{ token: string; state: MfaTokenState }> {
    const token = bearerToken(req);
    const challenge = `Bearer realm="${deps.config.issuer}", error="invalid_token"`;
    if (token === undefined) {
      throw new OAuthError(
        'invalid_token',
        'Missing authorization header with a Bearer mfa_token.',
        401,
        undefined,
        challenge,
      );
    }
    const state = await mfa.tokens.open(token);
    if (!state)
      throw new OAuthError('invalid_token', MALFORMED_TOKEN, 401, 'unknown or expired mfa_token', challenge);
    return { token, state };
  }

  // CORS as at /oauth/token: the application the mfa_token (or the body's client_id) is for.
  const tokenClient = async (req: FastifyRequest) => {
    const token = bearerToken(req);
    const state = token === undefined ? undefined : await mfa.tokens.open(token);
    return state ? deps.lookups.client(state.clientId) : undefined;
  };
  const namedClient = async (req: FastifyRequest) => {
    const id = namedClientId(isRecord(req.body) ? req.body : {}, req.headers.authorization);
    return id === undefined ? undefined : deps.lookups.client(id);
  };
  const tenantOrigins = () => deps.lookups.tenantOrigins();
  app.options('/mfa/authenticators', preflightHandler({ methods: ['GET'], tenantOrigins }));
  app.options('/mfa/authenticators/:id', preflightHandler({ methods: ['DELETE'], tenantOrigins }));
  app.options('/mfa/associate', preflightHandler({ methods: ['POST'], tenantOrigins }));
  app.options('/mfa/challenge', preflightHandler({ methods: ['POST'], tenantOrigins }));
  const bearerRoute = { bodyLimit: 64 * 1024, ...limit, onSend: corsOnSend(tokenClient) };

  app.get('/mfa/authenticators', bearerRoute, async (req, reply) => {
    const { state } = await bearerState(req);
    return reply.headers(NO_STORE).send(await mfa.authenticators(state));
  });

  app.delete<{ Params: { id: string } }>('/mfa/authenticators/:id', bearerRoute, async (req, reply) => {
    const { state } = await bearerState(req);
    await mfa.removeAuthenticator(state, req.params.id);
    return reply.headers(NO_STORE).status(204).send();
  });

  app.post('/mfa/associate', bearerRoute, async (req, reply) => {
    const { token, state } = await bearerState(req);
    const request = associateRequest(req.body);
    return reply.headers(NO_STORE).send(await mfa.associate(token, state, request));
  });

  app.post(
    '/mfa/challenge',
    { bodyLimit: 64 * 1024, ...limit, onSend: corsOnSend(namedClient) },
    async (req, reply) => {
      const params = parseTokenParams(req.body);
      const unknown = Object.keys(params).find((name) => !CHALLENGE_PARAMS.has(name));
      if (unknown !== undefined) throw new InvalidRequest(`Invalid parameter: ${unknown} is not allowed`);
      const { client } = await authenticateClient(
        { params, authorization: req.headers.authorization },
        tokenDeps,
      );
      const token = requiredString(params, 'mfa_token');
      const challengeType = requiredString(params, 'challenge_type');
      if (challengeType !== 'otp' && challengeType !== 'oob') {
        throw new InvalidRequest('challenge_type must be otp or oob.');
      }
      const state = await mfa.tokens.open(token);
      if (!state) throw new InvalidGrant(MALFORMED_TOKEN, 'unknown: mfa_token unknown, used or expired');
      if (state.clientId !== client.clientId) {
        throw new InvalidGrant(MALFORMED_TOKEN, `other_client: the mfa_token belongs to ${state.clientId}`);
      }
      const answer = await mfa.challenge(
        token,
        state,
        challengeType,
        optionalString(params, 'authenticator_id'),
        optionalString(params, 'oob_channel'),
      );
      return reply.headers(NO_STORE).send(answer);
    },
  );
};

/** POST /mfa/associate's body: one authenticator type, and for oob one channel with its address. */
function associateRequest(body: unknown): AssociateRequest {
  if (!isRecord(body)) throw new InvalidRequest('The body must be a JSON object.');
  const types = body['authenticator_types'];
  if (!Array.isArray(types) || types.length === 0) {
    throw new InvalidRequest('Missing required parameter: authenticator_types');
  }
  const [type] = types as unknown[];
  if (types.length > 1 || (type !== 'otp' && type !== 'oob')) {
    throw new InvalidRequest('authenticator_types must be ["otp"] or ["oob"].');
  }
  if (type === 'otp') return { authenticatorType: 'otp' };
  const channels = body['oob_channels'];
  if (!Array.isArray(channels) || channels.length === 0) {
    throw new InvalidRequest('Missing required parameter: oob_channels');
  }
  const [channel] = channels as unknown[];
  const known = OOB_CHANNELS.find((c) => c === channel);
  if (channels.length > 1 || known === undefined) {
    throw new InvalidRequest('oob_channels must be one of ["sms"], ["voice"] or ["email"].');
  }
  const text = (name: string): string | undefined => {
    const value = body[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' || value.length > 320)
      throw new InvalidRequest(`Invalid parameter: ${name}`);
    return value;
  };
  const phoneNumber = text('phone_number');
  const email = text('email');
  return {
    authenticatorType: 'oob',
    oobChannel: known,
    ...(phoneNumber !== undefined ? { phoneNumber } : {}),
    ...(email !== undefined ? { email } : {}),
  };
}
