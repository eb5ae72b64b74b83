import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  preValidationHookHandler,
} from 'fastify';
import type { User } from '../domain/user.js';
import type { AppError } from '../errors/app-error.js';
import {
  assertAudience,
  TokenVerificationError,
  type AudienceRule,
  type VerifyFailure,
} from '../oauth/tokens/verify-access-token.js';
import { markProofUsed, type PutOnce } from '../oauth/dpop/replay.js';
import { DPOP_ALGS, DpopProofError, publicUrl, verifyDpopProof } from '../oauth/dpop/verify-proof.js';
import { refusalHeaders, type FailureLimiter } from './failed-auth-limit.js';
import { rateLimitHeaders, type RateLimiter, type RateLimitResult } from './rate-limit.js';
import { hasRecentSecondFactor, stepUpRefusal, type StepUpRefusal } from './step-up.js';
import type { RequestAuth, VerifiedToken, VerifiedTokens } from './verified-tokens.js';

export type { RequestAuth } from './verified-tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified token's principal on an authenticated surface; null elsewhere. */
    auth: RequestAuth | null;
    /** The user the token acts for, when the surface's subject hook loaded one. */
    user: User | null;
  }
  interface FastifyContextConfig {
    /**
     * The route demands a recent second factor (step-up, RFC 9470) when the tenant sets a window; only on a
     * surface whose authenticated requests have `stepUp` options.
     */
    readonly stepUp?: boolean;
  }
}

/** Authorization schemes a surface accepts: `Bearer`, and `DPoP` (RFC 9449 §7) with a `DPoP` proof header. */
export type AuthScheme = 'Bearer' | 'DPoP';

/**
 * Why a request did not authenticate; each surface turns it into its own error. `dpop`: a DPoP rule refused it
 * (bad proof, a bound token presented as Bearer, a Bearer token where the API requires DPoP); its `challenge`
 * is the `WWW-Authenticate: DPoP ...` answer of RFC 9449 §7.1, which every surface sends as it is.
 */
export type AuthFailureReason = 'missing' | 'bad_header' | VerifyFailure | 'dpop';

/** The error code of a DPoP refusal (RFC 9449 §7.1). */
export type DpopAuthError = 'invalid_token' | 'invalid_dpop_proof';

export class AuthFailure extends Error {
  constructor(
    readonly reason: AuthFailureReason,
    message: string,
    /** For `dpop` failures: the error code and the challenge to answer with. */
    readonly dpop?: { readonly error: DpopAuthError; readonly challenge: string },
  ) {
    super(message);
  }
}

/** RFC 9449 §7.1: the DPoP challenge, naming the algorithms a proof may use. */
function dpopFailure(error: DpopAuthError, message: string): AuthFailure {
  const challenge = `DPoP algs="${DPOP_ALGS.join(' ')}", error="${error}", error_description="${message.replaceAll('"', "'")}"`;
  return new AuthFailure('dpop', message, { error, challenge });
}

export interface AuthenticatedRequestOptions {
  readonly tokens: VerifiedTokens;
  readonly now: () => number;
  /** The audience every token must carry, and whether an `aud` array naming it is enough. */
  readonly audience: string;
  readonly audienceRule: AudienceRule;
  readonly schemes: readonly AuthScheme[];
  /**
   * DPoP (RFC 9449 §7): where proofs are checked (the issuer gives the public URL for `htu`), where their `jti`s
   * are used up (the one-time store), and whether the surface's API takes DPoP-bound tokens only.
   */
  readonly dpop?: {
    readonly issuer: string;
    readonly putOnce: PutOnce;
    /** Whether this Bearer token must have been DPoP-bound (the API's `proof_of_possession`, its client). */
    readonly required?: (auth: RequestAuth) => boolean | Promise<boolean>;
  };
  /**
   * A Bearer token for another audience the surface may still take (Auth0's legacy "Allow ID Tokens for
   * Management API v2 Authentication"): the admitted request's auth, or undefined to refuse it as usual.
   */
  readonly otherAudience?: (auth: RequestAuth) => Promise<RequestAuth | undefined>;
  /** Headers every answer of the surface carries, errors included (e.g. no-store where bodies hold secrets). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The surface's error for a failed authentication (its renderer gives it the surface's shape). */
  readonly failure: (failure: AuthFailure) => AppError;
  /** Failed authentications per client address; an address over the limit is refused before any check. */
  readonly failedAuth?: {
    readonly limiter: FailureLimiter;
    readonly key: (req: FastifyRequest) => string;
    readonly tooManyRequests: () => AppError;
  };
  /** Requests per second per key (the calling client on /api/v2, the tenant on /me/v1), with x-ratelimit-* headers. */
  readonly rateLimit?: {
    readonly limiter: RateLimiter;
    readonly key: (auth: RequestAuth) => string;
    readonly tooManyRequests: () => AppError;
  };
  /**
   * Loads and checks the token's subject after the route's scope checks, before its handler; returns the user
   * the token acts for, if any. The one place for subject rules (issue 9: the user still exists, is not
   * blocked and was created before the token was issued). A synchronous answer costs no promise.
   */
  readonly subject?: (auth: RequestAuth) => User | undefined | Promise<User | undefined>;
  /**
   * Step-up for routes declaring `config: { stepUp: true }`: the window in seconds within which the token's
   * second factor must have been completed (undefined: step-up is off), and the surface's error for a token
   * without one (a 403 carrying the refusal's challenge).
   */
  readonly stepUp?: {
    readonly maxAgeSeconds: () => number | undefined | Promise<number | undefined>;
    readonly failure: (refusal: StepUpRefusal) => AppError;
  };
}

const BEARER = /^Bearer +(\S+)\s*$/i;
const DPOP = /^DPoP +(\S+)\s*$/i;
const SCOPE_CHECK = Symbol('scope check');

/** A route's scope check: a synchronous hook that passes the surface's error to `done`. */
export type ScopeCheck = preValidationHookHandler & { readonly [SCOPE_CHECK]: true };

/**
 * Marks a route preHandler as a scope check: `check` throws the surface's error when the token falls short.
 * Surfaces with authenticated requests run scope checks before validation, so a caller without the scope
 * learns nothing about the route's schema.
 */
export function scopeCheck(check: (req: FastifyRequest) => void): ScopeCheck {
  const hook: preValidationHookHandler = (req, _reply, done) => {
    try {
      check(req);
    } catch (error) {
      done(error as Error);
      return;
    }
    done();
  };
  return Object.assign(hook, { [SCOPE_CHECK]: true as const });
}

function isScopeCheck(hook: unknown): boolean {
  return typeof hook === 'function' && SCOPE_CHECK in hook;
}

type Outcome = RequestAuth | AuthFailure;

/** Synchronous for a remembered token (the hot path), a promise when the token must be verified. */
function authenticate(req: FastifyRequest, options: AuthenticatedRequestOptions): Outcome | Promise<Outcome> {
  const header = req.headers.authorization;
  if (header === undefined || header === '') return new AuthFailure('missing', 'Missing authentication');
  const dpopToken = options.dpop && options.schemes.includes('DPoP') ? DPOP.exec(header)?.[1] : undefined;
  if (dpopToken !== undefined) return authenticateDpop(req, header, dpopToken, options);
  const remembered = options.tokens.get(header);
  if (remembered) return admitBearer(admitAnyAudience(remembered, options), options);
  const token = options.schemes.includes('Bearer') ? BEARER.exec(header)?.[1] : undefined;
  if (token === undefined) return new AuthFailure('bad_header', 'Bad HTTP authentication header format');
  return options.tokens.verify(header, token).then(
    (verified) => admitBearer(admitAnyAudience(verified, options), options),
    (error: unknown) => {
      if (error instanceof TokenVerificationError) return new AuthFailure(error.reason, error.message);
      throw error;
    },
  );
}

function admit(verified: VerifiedToken, options: AuthenticatedRequestOptions): Outcome {
  try {
    assertAudience(verified.auth.claims.aud, options.audience, options.audienceRule);
  } catch (error) {
    if (error instanceof TokenVerificationError) return new AuthFailure(error.reason, error.message);
    throw error;
  }
  return verified.auth;
}

/** `admit`, then the surface's rule for a Bearer token of another audience, when it has one. */
function admitAnyAudience(
  verified: VerifiedToken,
  options: AuthenticatedRequestOptions,
): Outcome | Promise<Outcome> {
  const outcome = admit(verified, options);
  const other = options.otherAudience;
  if (!(outcome instanceof AuthFailure) || outcome.reason !== 'bad_audience' || !other) return outcome;
  return other(verified.auth).then((auth) => auth ?? outcome);
}

/** The key thumbprint a token is bound to (RFC 9449 §6.1 `cnf.jkt`), if any. */
function boundKey(auth: RequestAuth): string | undefined {
  const cnf = auth.claims['cnf'];
  if (typeof cnf !== 'object' || cnf === null) return undefined;
  const jkt = (cnf as Record<string, unknown>)['jkt'];
  return typeof jkt === 'string' ? jkt : undefined;
}

/**
 * RFC 9449 §7.2: a DPoP-bound token presented as Bearer is refused, as is any Bearer token where the API takes
 * DPoP-bound tokens only. A surface without DPoP still refuses bound tokens: their holder must prove the key.
 */
function admitBearer(
  admitted: Outcome | Promise<Outcome>,
  options: AuthenticatedRequestOptions,
): Outcome | Promise<Outcome> {
  if (admitted instanceof Promise) return admitted.then((o) => admitBearer(o, options));
  const outcome = admitted;
  if (outcome instanceof AuthFailure) return outcome;
  if (boundKey(outcome) !== undefined) {
    return dpopFailure(
      'invalid_token',
      'A DPoP-bound token must be presented with the DPoP scheme and a proof',
    );
  }
  const required = options.dpop?.required?.(outcome);
  const refuse = () => dpopFailure('invalid_token', 'This API requires DPoP-bound tokens');
  if (required instanceof Promise) return required.then((r) => (r ? refuse() : outcome));
  return required === true ? refuse() : outcome;
}

/** `Authorization: DPoP <token>` with its `DPoP` proof (RFC 9449 §7.1): the token, then the proof for it. */
async function authenticateDpop(
  req: FastifyRequest,
  header: string,
  token: string,
  options: AuthenticatedRequestOptions,
): Promise<Outcome> {
  const dpop = options.dpop;
  if (!dpop) return new AuthFailure('bad_header', 'Bad HTTP authentication header format');
  const proof = req.headers['dpop'];
  // Node joins repeated headers with commas, which a compact JWS never holds.
  if (typeof proof !== 'string' || proof === '' || proof.includes(',')) {
    return dpopFailure('invalid_dpop_proof', 'Exactly one DPoP proof header is required');
  }
  let verified: VerifiedToken;
  try {
    verified = options.tokens.get(header) ?? (await options.tokens.verify(header, token));
  } catch (error) {
    if (error instanceof TokenVerificationError) return dpopFailure('invalid_token', error.message);
    throw error;
  }
  const admitted = admit(verified, options);
  if (admitted instanceof AuthFailure) return dpopFailure('invalid_token', admitted.message);
  const jkt = boundKey(admitted);
  if (jkt === undefined) return dpopFailure('invalid_token', 'The token is not bound to a DPoP key');
  try {
    const checked = await verifyDpopProof(proof, {
      method: req.method,
      url: publicUrl(dpop.issuer, req.url),
      nowSeconds: Math.floor(options.now() / 1000),
      accessToken: token,
      jkt,
    });
    await markProofUsed(dpop.putOnce, checked);
  } catch (error) {
    if (error instanceof DpopProofError) return dpopFailure('invalid_dpop_proof', error.message);
    throw error;
  }
  return admitted;
}

/**
 * RFC 9470: the token must record a second factor within the tenant's window; otherwise the surface's 403 with
 * the `insufficient_user_authentication` challenge, in the scheme the token was presented with.
 */
function stepUpHook(
  stepUp: NonNullable<AuthenticatedRequestOptions['stepUp']>,
  now: () => number,
): preValidationHookHandler {
  const decide = (req: FastifyRequest, maxAge: number | undefined): AppError | undefined => {
    const auth = req.auth;
    if (maxAge === undefined || !auth) return undefined;
    if (hasRecentSecondFactor(auth.claims, Math.floor(now() / 1000), maxAge)) return undefined;
    return stepUp.failure(stepUpRefusal(boundKey(auth) === undefined ? 'Bearer' : 'DPoP', maxAge));
  };
  return (req, _reply, done) => {
    let maxAge: number | undefined | Promise<number | undefined>;
    try {
      maxAge = stepUp.maxAgeSeconds();
    } catch (error) {
      done(error as Error);
      return;
    }
    if (maxAge instanceof Promise) {
      maxAge.then((m) => {
        done(decide(req, m));
      }, done);
      return;
    }
    done(decide(req, maxAge));
  };
}

/**
 * The one authenticated-request path (architecture: /api/v2, /me/v1, /userinfo): registered inside a surface's
 * plugin, it authenticates every request of that surface before routing goes further, applies its rate limits,
 * hoists its routes' scope checks before validation and loads the token's subject. Errors are the surface's.
 * Hooks take callbacks so that a remembered token costs no promise on the way through.
 */
export const authenticatedRequests: FastifyPluginAsync<AuthenticatedRequestOptions> = Object.assign(
  async (app: FastifyInstance, options: AuthenticatedRequestOptions) => {
    const { failedAuth, rateLimit, subject, now, headers } = options;
    if (!app.hasRequestDecorator('auth')) app.decorateRequest('auth', null);
    if (!app.hasRequestDecorator('user')) app.decorateRequest('user', null);

    const applyRateLimit = (reply: FastifyReply, result: RateLimitResult, done: HookHandlerDoneFunction) => {
      void reply.headers(rateLimitHeaders(result));
      if (result.allowed) {
        done();
        return;
      }
      // SDKs back off by Retry-After first (spec 0).
      void reply.header('retry-after', String(Math.max(1, result.reset - Math.floor(now() / 1000))));
      done(rateLimit?.tooManyRequests());
    };

    const settle = (
      req: FastifyRequest,
      reply: FastifyReply,
      addressKey: string | undefined,
      outcome: Outcome,
      done: HookHandlerDoneFunction,
    ): void => {
      if (outcome instanceof AuthFailure) {
        const error = options.failure(outcome);
        // Asking without credentials is not a failed attempt; presenting bad ones is.
        if (failedAuth && addressKey !== undefined && outcome.reason !== 'missing') {
          failedAuth.limiter.recordFailure(addressKey, req.log).then(() => {
            done(error);
          }, done);
          return;
        }
        done(error);
        return;
      }
      req.auth = outcome;
      if (!rateLimit) {
        done();
        return;
      }
      const result = rateLimit.limiter.hit(rateLimit.key(outcome));
      if (result instanceof Promise) {
        result.then((r) => {
          applyRateLimit(reply, r, done);
        }, done);
        return;
      }
      applyRateLimit(reply, result, done);
    };

    app.addHook('onRequest', (req, reply, done) => {
      if (headers) void reply.headers(headers);
      let addressKey: string | undefined;
      if (failedAuth) {
        addressKey = failedAuth.key(req);
        const refusal = failedAuth.limiter.refusal(addressKey);
        if (refusal) {
          void reply.headers(refusalHeaders(refusal, now()));
          done(failedAuth.tooManyRequests());
          return;
        }
      }
      let outcome: Outcome | Promise<Outcome>;
      try {
        outcome = authenticate(req, options);
      } catch (error) {
        done(error as Error);
        return;
      }
      if (outcome instanceof Promise) {
        outcome.then((o) => {
          settle(req, reply, addressKey, o, done);
        }, done);
        return;
      }
      settle(req, reply, addressKey, outcome, done);
    });

    if (subject) {
      app.addHook('preHandler', (req, _reply, done) => {
        if (!req.auth) {
          done();
          return;
        }
        let loaded: User | undefined | Promise<User | undefined>;
        try {
          loaded = subject(req.auth);
        } catch (error) {
          done(error as Error);
          return;
        }
        if (loaded instanceof Promise) {
          loaded.then((user) => {
            req.user = user ?? null;
            done();
          }, done);
          return;
        }
        req.user = loaded ?? null;
        done();
      });
    }

    const stepUpCheck = options.stepUp ? stepUpHook(options.stepUp, now) : undefined;

    app.addHook('onRoute', (route) => {
      const preHandlers = [route.preHandler ?? []].flat();
      const checks: preValidationHookHandler[] = preHandlers.filter(isScopeCheck);
      if (route.config?.stepUp === true) {
        if (!stepUpCheck)
          throw new Error(`${route.url} asks for step-up on a surface without step-up options`);
        // After the scope checks: a token without the scope learns nothing about step-up.
        checks.push(stepUpCheck);
      }
      if (checks.length > 0) {
        type Hooks = NonNullable<typeof route.preValidation>;
        route.preValidation = [...[route.preValidation ?? []].flat(), ...checks] as Hooks;
        route.preHandler = preHandlers.filter((h) => !isScopeCheck(h));
      }
    });
  },
  // Like fastify-plugin: the hooks apply to the surface that registers this, not to a child context.
  { [Symbol.for('skip-override')]: true },
);
