import { createHmac, timingSafeEqual } from 'node:crypto';

/** How long one nonce window lasts; a nonce is accepted in its window and the next one. */
export const DPOP_NONCE_WINDOW_SECONDS = 300;

export interface DpopNonces {
  /** The nonce to hand out now (`DPoP-Nonce`). */
  readonly current: () => string;
  /** True when `nonce` was handed out in the current or the previous window. */
  readonly accepts: (nonce: string | undefined) => boolean;
}

/**
 * Stateless server nonces (RFC 9449 §8): an HMAC of the time window under a key derived from the server
 * secret, so every node that shares LATCHKEY_SECRET hands out and accepts the same nonces without a store.
 */
export function createDpopNonces(
  secret: string,
  nowSeconds: () => number,
  windowSeconds = DPOP_NONCE_WINDOW_SECONDS,
): DpopNonces {
  const key = createHmac('sha256', secret).update('latchkey:dpop-nonce').digest();
  const forWindow = (window: number) =>
    createHmac('sha256', key).update(String(window)).digest('base64url').slice(0, 32);
  const windowNow = () => Math.floor(nowSeconds() / windowSeconds);
  const equal = (a: string, b: string) =>
    a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
  return {
    current: () => forWindow(windowNow()),
    accepts: (nonce) => {
      if (nonce === undefined || nonce.length !== 32) return false;
      const now = windowNow();
      return equal(nonce, forWindow(now)) || equal(nonce, forWindow(now - 1));
    },
  };
}
