import { apiRequiresDpop } from '../oauth/tokens/sender-constraint.js';
import type { AuthenticatedRequestOptions } from './authenticated-request.js';
import type { Deps } from './deps.js';

/**
 * The DPoP options of an authenticated surface (RFC 9449 §7): proofs name the issuer-based URL, their `jti`s
 * are used up in the one-time store (Redis when configured: a proof used on one node is refused on every
 * other), and when the surface is an API, its `proof_of_possession` says whether Bearer tokens still pass.
 */
export function resourceDpop(
  deps: Deps,
  audience: string | undefined,
): NonNullable<AuthenticatedRequestOptions['dpop']> {
  return {
    issuer: deps.config.issuer,
    putOnce: (key, value, ttl) => deps.oneTime.putOnce(key, value, ttl),
    ...(audience !== undefined
      ? {
          // While the API is cached (the usual case) the answer needs no promise: this runs on every Bearer request.
          required: () => {
            const cached = deps.lookups.cachedResourceServer(audience);
            if (cached) return apiRequiresDpop(cached);
            return deps.lookups
              .resourceServer(audience)
              .then((api) => api !== undefined && apiRequiresDpop(api));
          },
        }
      : {}),
  };
}
