import type { FastifyRequest } from 'fastify';
import { decodeProtectedHeader } from 'jose';
import { BadRequest, Forbidden, Unauthorized, insufficientScope } from '../errors/api.js';
import { TtlCache } from '../lib/lru.js';
import {
  TokenVerificationError,
  verifyAccessToken,
  type AccessTokenClaims,
} from '../oauth/tokens/verify-access-token.js';
import type { Deps } from '../server/deps.js';
import { managementAudience } from './scopes.js';

export interface ManagementAuth {
  readonly sub: string;
  readonly clientId: string | undefined;
  readonly scopes: ReadonlySet<string>;
  /** True for tokens issued to a user (current-user scopes apply). */
  readonly isUser: boolean;
  /** Set when the request was admitted only through a current-user scope. */
  readonly currentUserOnly?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    managementAuth: ManagementAuth | null;
  }
}

/** Verifies Management API bearer tokens; verified tokens are remembered until they expire. */
export function createManagementAuthenticator(deps: Deps) {
  const verified = new TtlCache<{ claims: AccessTokenClaims; kid: string }>(10_000, 60_000, () =>
    deps.clock.now(),
  );
  const audience = managementAudience(deps.config.issuer);
  const publicKey = async (kid: string) => {
    await deps.keystore.ensureFresh();
    let key = deps.keystore.publicKey(kid);
    if (!key) {
      // Another node may have rotated; look again before refusing.
      await deps.keystore.lookAgain();
      key = deps.keystore.publicKey(kid);
    }
    return key;
  };

  return async function authenticate(req: FastifyRequest): Promise<void> {
    const header = req.headers.authorization;
    if (header === undefined || header === '') throw new Unauthorized('Missing authentication');
    const match = /^Bearer +(\S+)\s*$/i.exec(header);
    if (!match?.[1]) throw new BadRequest('invalid_body', 'Bad HTTP authentication header format');
    const token = match[1];
    const nowSeconds = Math.floor(deps.clock.now() / 1000);
    const hit = verified.get(token);
    // A cached token stays valid only while its key is still published (revocation takes effect at once).
    let claims =
      hit && (hit.claims.exp ?? 0) > nowSeconds && deps.keystore.publicKey(hit.kid) ? hit.claims : undefined;
    if (!claims) {
      try {
        claims = await verifyAccessToken({
          token,
          issuer: deps.config.issuer,
          audience,
          singleAudience: true,
          publicKey,
          nowSeconds,
        });
      } catch (error) {
        if (error instanceof TokenVerificationError) {
          if (error.reason === 'malformed') throw new BadRequest('invalid_body', error.message);
          throw new Unauthorized(error.message);
        }
        throw error;
      }
      verified.set(token, { claims, kid: String(decodeProtectedHeader(token).kid) });
    }
    const isUser = !claims.sub.endsWith('@clients');
    req.managementAuth = {
      sub: claims.sub,
      clientId: claims.azp,
      scopes: new Set((claims.scope ?? '').split(' ').filter(Boolean)),
      isUser,
    };
  };
}

type ScopeCheck = ((req: FastifyRequest) => Promise<void>) & { readonly [SCOPE_CHECK]: true };
const SCOPE_CHECK = Symbol('scope check');

/** Marks a hook as a scope check, which the Management plugin runs before body validation. */
function scopeCheck(check: (req: FastifyRequest) => Promise<void>): ScopeCheck {
  return Object.assign(check, { [SCOPE_CHECK]: true as const });
}

export function isScopeCheck(hook: unknown): boolean {
  return typeof hook === 'function' && SCOPE_CHECK in hook;
}

/** preHandler: the token must hold any of `scopes` (spec 4.3); throws, never replies itself. */
export function requireScope(...scopes: readonly string[]): ScopeCheck {
  return requireScopeSet(...scopes.map((s) => [s]));
}

/** preHandler: the token must hold every scope of at least one of `sets`. */
export function requireScopeSet(...sets: readonly (readonly string[])[]): ScopeCheck {
  return scopeCheck(async (req) => {
    const granted = req.managementAuth?.scopes;
    if (!granted || !sets.some((set) => set.every((s) => granted.has(s)))) {
      // Name what the token lacks: adding any one of these scopes (or all of a set's) would admit it.
      throw insufficientScope([...new Set(sets.flat())].filter((s) => granted?.has(s) !== true));
    }
    await Promise.resolve();
  });
}

/**
 * preHandler for endpoints with current-user scopes (seed 003): any-user scopes act on anyone;
 * current-user scopes act only on the token's own subject, given as the `id` path parameter.
 * @returns whether the request was admitted through a current-user scope.
 */
export function requireUserScope(anyUser: readonly string[], currentUser: readonly string[]): ScopeCheck {
  return scopeCheck(async (req: FastifyRequest): Promise<void> => {
    const auth = req.managementAuth;
    const granted = auth?.scopes;
    if (granted && anyUser.some((s) => granted.has(s))) return;
    if (!auth || !granted || !currentUser.some((s) => granted.has(s)))
      throw insufficientScope([...anyUser, ...currentUser]);
    const id = (req.params as { id?: string }).id;
    if (!auth.isUser || id !== auth.sub) {
      throw new Forbidden(
        'insufficient_scope',
        'User to be acted on does not match subject in bearer token.',
      );
    }
    req.managementAuth = { ...auth, currentUserOnly: true };
    await Promise.resolve();
  });
}
