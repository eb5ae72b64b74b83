import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Forbidden,
  insufficientScope,
  NotFound,
  TooManyRequests,
  Unauthorized,
} from '../../../src/errors/api.js';
import { managementAuthError } from '../../../src/management/auth.js';
import type { AudienceRule } from '../../../src/oauth/tokens/verify-access-token.js';
import { authenticatedRequests, scopeCheck } from '../../../src/server/authenticated-request.js';
import { createMemoryRateLimiter } from '../../../src/server/rate-limit.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';

const ME = `${TEST_ISSUER}me/`;
const USERINFO = `${TEST_ISSUER}userinfo`;
const MY_ACCOUNT_RATE_LIMIT = 25;

// A small My Account-like surface on the one authenticated-request path: the options differ per surface
// (audience rule, rate-limit key and limit, subject hook), the errors take the /me/v1 problem+json shape.
describe.each(testBackends())('the authenticated-request path configured per surface on $name', (backend) => {
  let t: TestApp;
  const subjectsLoaded: string[] = [];
  beforeAll(async () => {
    t = await buildTestApp(backend);
    const surface = (rule: AudienceRule) => async (app: TestApp['app']) => {
      await app.register(authenticatedRequests, {
        tokens: t.deps.verifiedTokens,
        now: t.clock.now,
        audience: ME,
        audienceRule: rule,
        schemes: ['Bearer'],
        failure: managementAuthError,
        rateLimit: {
          limiter: createMemoryRateLimiter(MY_ACCOUNT_RATE_LIMIT, t.clock.now),
          key: () => t.deps.tenantId,
          tooManyRequests: () => new TooManyRequests(),
        },
        subject: async (auth) => {
          subjectsLoaded.push(auth.sub);
          if (auth.sub === 'auth0|gone') throw new Unauthorized('The user no longer exists');
          return undefined;
        },
      });
      app.get(
        '/factors',
        {
          preHandler: scopeCheck((req) => {
            if (req.auth?.scopes.has('read:me:factors') !== true)
              throw insufficientScope(['read:me:factors']);
          }),
        },
        async (req) => ({ sub: req.auth?.sub }),
      );
      app.get('/missing', async () => {
        throw new NotFound('not_found', 'No such factor.');
      });
    };
    await t.app.register(surface('includes'), { prefix: '/me/v1/stub' });
    await t.app.register(surface('exact'), { prefix: '/me/v1/stub/one-audience' });
  });
  afterAll(async () => {
    await t.close();
  });

  const now = () => Math.floor(t.clock.now() / 1000);
  const token = (claims: Record<string, unknown> = {}) =>
    t.deps.signer.sign(
      {
        iss: TEST_ISSUER,
        sub: 'auth0|me',
        aud: [ME, USERINFO],
        iat: now(),
        exp: now() + 60,
        scope: 'openid read:me:factors',
        ...claims,
      },
      { alg: 'RS256', typ: 'JWT' },
    );
  const get = async (url: string, bearer?: string) =>
    t.app.inject({
      method: 'GET',
      url,
      ...(bearer !== undefined ? { headers: { authorization: `Bearer ${bearer}` } } : {}),
    });

  it('accepts an aud array naming the audience where the surface allows it', async () => {
    const res = await get('/me/v1/stub/factors', await token());
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ sub: 'auth0|me' });
  });

  it('refuses the same token where the surface wants exactly one audience, in problem+json', async () => {
    const res = await get('/me/v1/stub/one-audience/factors', await token());
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.json()).toEqual({
      type: 'https://auth0.com/api-errors/A0E-401-0001',
      status: 401,
      title: 'Unauthorized',
      detail: `Bad audience: ${ME} ${USERINFO}`,
    });
    expect((await get('/me/v1/stub/one-audience/factors', await token({ aud: ME }))).statusCode).toBe(200);
  });

  it('refuses a token for another audience on both', async () => {
    for (const url of ['/me/v1/stub/factors', '/me/v1/stub/one-audience/factors']) {
      const res = await get(url, await token({ aud: [USERINFO] }));
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ detail: `Bad audience: ${USERINFO}` });
    }
  });

  it('answers a missing token and a missing scope in problem+json', async () => {
    expect((await get('/me/v1/stub/factors')).json()).toEqual({
      type: 'https://auth0.com/api-errors/A0E-401-0001',
      status: 401,
      title: 'Unauthorized',
      detail: 'Missing authentication',
    });
    const res = await get('/me/v1/stub/factors', await token({ scope: 'openid' }));
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({
      type: 'https://auth0.com/api-errors/A0E-403-0002',
      status: 403,
      title: 'insufficient_scope',
      detail: 'Insufficient scope, expected any of: read:me:factors',
    });
  });

  it('renders handler errors through the same table', async () => {
    const res = await get('/me/v1/stub/missing', await token());
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      type: 'https://auth0.com/api-errors/A0E-404-0001',
      status: 404,
      title: 'Not Found',
      detail: 'No such factor.',
    });
  });

  it('loads the subject after the scope checks, and its refusal stops the request', async () => {
    subjectsLoaded.length = 0;
    expect(
      (await get('/me/v1/stub/factors', await token({ sub: 'auth0|gone', scope: 'openid' }))).statusCode,
    ).toBe(403);
    expect(subjectsLoaded).toEqual([]);
    const gone = await get('/me/v1/stub/factors', await token({ sub: 'auth0|gone' }));
    expect(gone.statusCode).toBe(401);
    expect(gone.json()).toMatchObject({ detail: 'The user no longer exists' });
    expect(subjectsLoaded).toEqual(['auth0|gone']);
  });

  it('limits the whole tenant to 25 requests a second, whoever calls, with x-ratelimit headers', async () => {
    t.clock.set((Math.floor(t.clock.now() / 1000) + 1) * 1000);
    const tokens = [await token({ sub: 'auth0|one' }), await token({ sub: 'auth0|two' })];
    for (let i = 0; i < MY_ACCOUNT_RATE_LIMIT; i++) {
      expect((await get('/me/v1/stub/factors', tokens[i % 2])).statusCode).toBe(200);
    }
    const limited = await get('/me/v1/stub/factors', tokens[0]);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['x-ratelimit-limit']).toBe(String(MY_ACCOUNT_RATE_LIMIT));
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');
    expect(limited.headers['retry-after']).toBe('1');
    expect(limited.json()).toEqual({
      type: 'about:blank',
      status: 429,
      title: 'Too Many Requests',
      detail:
        'Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.',
    });
  });
});

// Step-up is a route declaration any surface can take: here a stub surface with a fixed window.
describe('step-up declared on a route of the authenticated-request path', () => {
  let t: TestApp;
  let window: number | undefined = 300;
  beforeAll(async () => {
    t = await buildTestApp();
    await t.app.register(
      async (app) => {
        await app.register(authenticatedRequests, {
          tokens: t.deps.verifiedTokens,
          now: t.clock.now,
          audience: ME,
          audienceRule: 'includes',
          schemes: ['Bearer'],
          failure: managementAuthError,
          stepUp: {
            maxAgeSeconds: () => window,
            failure: (refusal) =>
              new Forbidden('insufficient_user_authentication', refusal.message, refusal.challenge),
          },
        });
        app.post('/sensitive', { config: { stepUp: true } }, async () => ({ done: true }));
        app.post('/ordinary', async () => ({ done: true }));
      },
      { prefix: '/me/v1/stub-step-up' },
    );
  });
  afterAll(async () => {
    await t.close();
  });

  const now = () => Math.floor(t.clock.now() / 1000);
  const token = (claims: Record<string, unknown> = {}) =>
    t.deps.signer.sign(
      { iss: TEST_ISSUER, sub: 'auth0|me', aud: ME, iat: now(), exp: now() + 3600, ...claims },
      { alg: 'RS256', typ: 'JWT' },
    );
  const post = async (path: string, bearer: string) =>
    t.app.inject({
      method: 'POST',
      url: `/me/v1/stub-step-up${path}`,
      headers: { authorization: `Bearer ${bearer}` },
    });

  it('lets a recent second factor through and refuses the rest in the surface shape, with the challenge', async () => {
    window = 300;
    expect(
      (await post('/sensitive', await token({ amr: ['pwd', 'mfa'], auth_time: now() }))).statusCode,
    ).toBe(200);
    const cases = [
      {},
      { amr: ['pwd'], auth_time: now() },
      { amr: ['pwd', 'mfa'] },
      { amr: ['pwd', 'mfa'], auth_time: now() - 301 },
      { amr: 'mfa', auth_time: now() },
    ];
    for (const claims of cases) {
      const res = await post('/sensitive', await token(claims));
      expect({ claims, status: res.statusCode }).toEqual({ claims, status: 403 });
      expect(res.json()).toMatchObject({ status: 403, title: 'Recent second factor required' });
      expect(res.headers['www-authenticate']).toContain('Bearer error="insufficient_user_authentication"');
      expect(res.headers['www-authenticate']).toContain('max_age="300"');
    }
    // Routes that do not declare it, and every route while the window is off, pass.
    expect((await post('/ordinary', await token())).statusCode).toBe(200);
    window = undefined;
    expect((await post('/sensitive', await token())).statusCode).toBe(200);
  });

  it('refuses to register a step-up route on a surface without step-up options', async () => {
    const other = await buildTestApp();
    try {
      await expect(
        other.app.register(async (app) => {
          await app.register(authenticatedRequests, {
            tokens: other.deps.verifiedTokens,
            now: other.clock.now,
            audience: ME,
            audienceRule: 'includes',
            schemes: ['Bearer'],
            failure: managementAuthError,
          });
          app.post('/sensitive', { config: { stepUp: true } }, async () => ({}));
        }),
      ).rejects.toThrow('asks for step-up on a surface without step-up options');
    } finally {
      await other.close().catch(() => undefined);
    }
  });
});
