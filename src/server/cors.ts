import type { FastifyRequest, onSendHookHandler, RouteHandlerMethod } from 'fastify';
import type { Client } from '../domain/client.js';
import { clientOriginPatterns, normalizeOrigin, originAllowed, type OriginPattern } from '../oauth/cors.js';

/**
 * CORS for the Authentication API endpoints a browser application calls itself (auth0-spa-js exchanges codes
 * and refresh tokens at /oauth/token, revokes at /oauth/revoke, and may read /userinfo).
 *
 * - No `Access-Control-Allow-Credentials`: the SDKs call these endpoints with fetch's default credentials
 *   mode (no cookies; the client and tokens travel in the body or the Authorization header), so a browser
 *   never needs the server to accept credentialed cross-origin calls here.
 * - `Access-Control-Allow-Origin` always names the caller's origin, never `*`, and `Vary: Origin` goes on
 *   every answer of these endpoints, since each depends on the Origin header.
 */

/** What browser SDKs send: auth0-spa-js a JSON or form body with its `Auth0-Client` telemetry header, and a
 * `DPoP` proof when the application asks for DPoP; /userinfo a bearer token in `Authorization`. */
const ALLOW_HEADERS = 'Content-Type, Authorization, Auth0-Client, DPoP';

/** Response headers a page may read beyond the CORS-safelisted ones: the bearer or DPoP challenge of /userinfo,
 * and the server's DPoP nonce (auth0-spa-js stores it and puts it in its next proof). */
const EXPOSE_HEADERS = 'WWW-Authenticate, DPoP-Nonce';

/**
 * A browser may reuse an answered preflight this long (Chromium caps it at 2 hours, Firefox at 24). A long
 * cache costs nothing in safety: whether a page may read an answer is decided again on every actual request
 * (below), so removing an origin from an application takes effect at once even while a preflight is cached.
 */
const MAX_AGE_SECONDS = '86400';

export interface PreflightOptions {
  /** The methods the endpoint answers cross-origin. */
  readonly methods: readonly string[];
  /** Every origin pattern of the tenant: a preflight carries no body, so it cannot name its client yet. */
  readonly tenantOrigins: () => Promise<readonly OriginPattern[]>;
}

/**
 * Answers `OPTIONS`. A preflight from an origin some application lists gets 204 with the CORS grant. One from
 * any other origin gets 403 without any `Access-Control-*` header: a browser fails a preflight on the missing
 * `Access-Control-Allow-Origin` whatever the status, and 403 (rather than a silent 204) is what shows a
 * developer in the network panel that the origin is not allowed. An `OPTIONS` that is not a preflight
 * (no Origin or no Access-Control-Request-Method) gets 204 with `Allow`.
 */
export function preflightHandler(options: PreflightOptions): RouteHandlerMethod {
  const methods = options.methods.join(', ');
  const allow = [...options.methods, 'OPTIONS'].join(', ');
  return async (req, reply) => {
    void reply.header('vary', 'Origin');
    const requested = req.headers['access-control-request-method'];
    if (req.headers.origin === undefined || requested === undefined) {
      return reply.header('allow', allow).status(204).send();
    }
    const origin = normalizeOrigin(req.headers.origin);
    if (origin === undefined || !originAllowed(origin, await options.tenantOrigins())) {
      return reply.status(403).send();
    }
    return reply
      .headers({
        'access-control-allow-origin': origin,
        'access-control-allow-methods': methods,
        'access-control-allow-headers': ALLOW_HEADERS,
        'access-control-max-age': MAX_AGE_SECONDS,
      })
      .status(204)
      .send();
  };
}

/**
 * An `onSend` hook for the actual requests: it lets the page read the answer, success or error alike (so an
 * application sees `invalid_grant`), when the application the request is made for lists the page's origin.
 * `clientOf` names that application: the client the request names at /oauth/token and /oauth/revoke (on a
 * success it is the authenticated one), the token's client at /userinfo.
 */
export function corsOnSend(
  clientOf: (req: FastifyRequest) => Promise<Client | undefined>,
  exposeHeaders: string = EXPOSE_HEADERS,
): onSendHookHandler {
  // A callback hook: an answer to a request without Origin (servers, native apps) costs no promise.
  return (req, reply, payload, done) => {
    void reply.header('vary', 'Origin');
    const origin = normalizeOrigin(req.headers.origin);
    if (origin === undefined) {
      done(null, payload);
      return;
    }
    clientOf(req)
      .catch(() => undefined)
      .then((client) => {
        if (client && originAllowed(origin, clientOriginPatterns(client.settings))) {
          void reply.headers({
            'access-control-allow-origin': origin,
            'access-control-expose-headers': exposeHeaders,
          });
        }
        done(null, payload);
      }, done);
  };
}
