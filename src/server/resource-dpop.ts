import type { ResourceServer } from '../domain/resource-server.js';
import { isPublicClient } from '../oauth/tokens/refresh-policy.js';
import { apiDpopRequirement } from '../oauth/tokens/sender-constraint.js';
import type { AuthenticatedRequestOptions, RequestAuth } from './authenticated-request.js';
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
  /** Whether the token must be DPoP-bound for `api`: always, or when its client is public (`required_for`). */
  const requiredFor = (api: ResourceServer | undefined, auth: RequestAuth): boolean | Promise<boolean> => {
    const requirement = api === undefined ? undefined : apiDpopRequirement(api);
    if (requirement !== 'public_clients') return requirement === 'all_clients';
    // The client the token was issued to (azp, or client_id in RFC 9068 tokens); one that is gone fails closed.
    const clientId = auth.clientId ?? auth.claims['client_id'];
    if (typeof clientId !== 'string') return true;
    return deps.lookups.client(clientId).then((client) => client === undefined || isPublicClient(client));
  };
  return {
    issuer: deps.config.issuer,
    putOnce: (key, value, ttl) => deps.oneTime.putOnce(key, value, ttl),
    ...(audience !== undefined
      ? {
          // While the API is cached (the usual case) the answer needs no promise: this runs on every Bearer request.
          required: (auth: RequestAuth) => {
            const cached = deps.lookups.cachedResourceServer(audience);
            if (cached) return requiredFor(cached, auth);
            return deps.lookups.resourceServer(audience).then((api) => requiredFor(api, auth));
          },
        }
      : {}),
  };
}
