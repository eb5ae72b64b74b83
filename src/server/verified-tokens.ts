import { LRUCache } from 'lru-cache';
import type { Keystore } from '../keys/keystore.js';
import { verifyAccessToken, type AccessTokenClaims } from '../oauth/tokens/verify-access-token.js';

/** Who an authenticated request acts for, derived once per token. */
export interface RequestAuth {
  readonly sub: string;
  readonly clientId: string | undefined;
  readonly scopes: ReadonlySet<string>;
  /** True for tokens issued to a user (current-user scopes apply). */
  readonly isUser: boolean;
  readonly claims: AccessTokenClaims;
  /** Set when the request was admitted only through a current-user scope. */
  readonly currentUserOnly?: boolean;
}

export interface VerifiedToken {
  /** The Authorization header value that carried the token. */
  readonly credentials: string;
  readonly auth: RequestAuth;
  /** The signing key: a token stops being valid when its key is revoked. */
  readonly kid: string;
  /** Epoch seconds. */
  readonly exp: number;
}

export interface TokenCacheLimits {
  readonly maxEntries: number;
  /** Approximate characters held (each entry counts its token twice: the string and its claims). */
  readonly maxSize: number;
}

const TOKEN_CACHE_LIMITS: TokenCacheLimits = { maxEntries: 20_000, maxSize: 16 * 1024 * 1024 };

/**
 * Access tokens signed by the tenant, verified once and remembered, by the Authorization header that carried
 * them, until they expire.
 */
export interface VerifiedTokens {
  /** The remembered verification for this exact header, while unexpired and its key is still published. */
  get(credentials: string): VerifiedToken | undefined;
  /**
   * Verifies `token` (read from `credentials`): signature, issuer and expiry, not the audience, which is each
   * surface's rule; then remembers it.
   * @throws TokenVerificationError
   */
  verify(credentials: string, token: string): Promise<VerifiedToken>;
  /** Forgets everything (signing keys changed). */
  clear(): void;
}

/**
 * Hashing a 1-3 KB header for the map costs more than everything else a hit does; the end of the signature
 * is as unique, and a hit is confirmed by comparing the whole header.
 */
function keyOf(credentials: string): string {
  return credentials.length > 64 ? credentials.slice(-43) : credentials;
}

export function createVerifiedTokens(
  issuer: string,
  keystore: Keystore,
  now: () => number,
  limits: TokenCacheLimits = TOKEN_CACHE_LIMITS,
): VerifiedTokens {
  const cache = new LRUCache<string, VerifiedToken>({
    max: limits.maxEntries,
    maxSize: limits.maxSize,
    sizeCalculation: (entry) => entry.credentials.length * 2,
    ttlResolution: 0,
    perf: { now },
  });
  const publicKey = (kid: string) => keystore.findPublicKey(kid);
  return {
    get(credentials) {
      const key = keyOf(credentials);
      const hit = cache.get(key);
      if (hit?.credentials !== credentials) return undefined;
      if (hit.exp * 1000 <= now() || !keystore.publicKey(hit.kid)) {
        cache.delete(key);
        return undefined;
      }
      return hit;
    },
    async verify(credentials, token) {
      const { claims, kid } = await verifyAccessToken({
        token,
        issuer,
        publicKey,
        nowSeconds: Math.floor(now() / 1000),
      });
      const verified: VerifiedToken = {
        credentials,
        kid,
        exp: claims.exp,
        auth: {
          sub: claims.sub,
          clientId: claims.azp,
          scopes: new Set((claims.scope ?? '').split(' ').filter(Boolean)),
          isUser: !claims.sub.endsWith('@clients'),
          claims,
        },
      };
      cache.set(keyOf(credentials), verified, { ttl: Math.max(1, claims.exp * 1000 - now()) });
      return verified;
    },
    clear() {
      cache.clear();
    },
  };
}
