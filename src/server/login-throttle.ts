import type { ThrottledAttempt } from '../users/authenticate.js';
import { BRUTE_FORCE_PROTECTION } from '../users/authenticate.js';
import type { Deps } from './deps.js';
import { addressKey, type WarningLog } from './failed-auth-limit.js';

/** Stale brute-force counters are swept at most this often per node. */
const PRUNE_EVERY_MS = 60_000;

/**
 * Counts a password sign-in against the caller's address and against the login name (`subject`) before its
 * password is checked, through the limiters of `deps.failedLogins` (Redis when configured), and now and then
 * sweeps the brute-force counters that have run out.
 */
export function createLoginThrottle(
  deps: Deps,
  log: WarningLog,
): (subject: string, ip: string) => Promise<ThrottledAttempt> {
  let prunedAt = Number.NEGATIVE_INFINITY;
  const prune = () => {
    const now = deps.clock.now();
    if (now - prunedAt < PRUNE_EVERY_MS) return;
    prunedAt = now;
    deps.store.loginFailures
      .prune(Math.floor(now / 1000), BRUTE_FORCE_PROTECTION.windowSeconds)
      .catch((error: unknown) => {
        log.warn(`login-failure sweep failed (${error instanceof Error ? error.message : String(error)})`);
      });
  };
  return async (subject, ip) => {
    prune();
    const { perAddress, perIdentifier } = deps.failedLogins;
    const [address, identifier] = await Promise.all([
      perAddress.attempt(addressKey(deps.tenantId, ip), log),
      perIdentifier.attempt(`${deps.tenantId}:login:${subject}`, log),
    ]);
    return {
      refusal: address.refusal ? 'address' : identifier.refusal ? 'identifier' : undefined,
      async succeeded() {
        await Promise.all([address.cancel(), identifier.cancel()]);
      },
    };
  };
}
