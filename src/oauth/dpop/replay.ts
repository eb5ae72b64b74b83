import { DPOP_IAT_WINDOW_SECONDS, DpopProofError, type VerifiedProof } from './verify-proof.js';

/** The one-time store's put (server/one-time-store.ts): false when the key is already held. */
export type PutOnce = (key: string, value: string, ttlSeconds: number) => Promise<boolean>;

/**
 * RFC 9449 §11.1: a proof is used once. Its `jti` is held (per key) for as long as its `iat` could still pass
 * the window check, in the one-time store: Redis when configured, so a proof used on one node is refused on
 * every other.
 * @throws DpopProofError when the proof was already used
 */
export async function markProofUsed(putOnce: PutOnce, proof: VerifiedProof): Promise<void> {
  const fresh = await putOnce(`dpop:${proof.jkt}:${proof.jti}`, '1', 2 * DPOP_IAT_WINDOW_SECONDS + 1);
  if (!fresh) throw new DpopProofError('invalid_dpop_proof', 'DPoP proof jti was already used');
}
