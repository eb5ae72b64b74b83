import { createHash, timingSafeEqual } from 'node:crypto';

const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/** RFC 7636 §4.6: does the code_verifier match the challenge the authorization request sent? */
export function verifyPkce(verifier: string, challenge: string, method: 'S256' | 'plain'): boolean {
  if (!VERIFIER.test(verifier)) return false;
  const computed = method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
  const a = createHash('sha256').update(computed).digest();
  const b = createHash('sha256').update(challenge).digest();
  // Digests of both: equal lengths, so the comparison takes the same time whatever was sent.
  return timingSafeEqual(a, b);
}
