import { createHash, randomBytes } from 'node:crypto';

/** The one-time store as codes and transactions use it (server/one-time-store.ts: Redis or SQL). */
export interface OneTimeValues {
  putOnce(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  takeOnce(key: string): Promise<string | undefined>;
  peek(key: string): Promise<string | undefined>;
}

/** RFC 6749 §4.1.2 recommends at most 10 minutes; Auth0's codes live 60 seconds. */
export const CODE_LIFETIME_SECONDS = 60;
/** How long a used code is remembered, so that a replay revokes what its first use issued. */
export const USED_CODE_MEMORY_SECONDS = 3_600;

/** What an authorization code stands for: the request, the sign-in and the refresh-token family it starts. */
export interface AuthorizationCode {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly redirectUriSent: boolean;
  readonly codeChallenge: string | undefined;
  readonly codeChallengeMethod: 'S256' | 'plain' | undefined;
  readonly nonce: string | undefined;
  readonly scope: string | undefined;
  readonly audience: string | undefined;
  readonly userId: string;
  readonly sid: string;
  readonly authTime: number;
  /** The family of the refresh token the exchange issues, fixed now so a replay can revoke it. */
  readonly refreshFamilyId: string;
}

export type TakenCode =
  | { readonly kind: 'valid'; readonly code: AuthorizationCode }
  | { readonly kind: 'reused'; readonly clientId: string; readonly refreshFamilyId: string }
  | { readonly kind: 'unknown' };

interface CodeFamily {
  readonly clientId: string;
  readonly refreshFamilyId: string;
}

const digest = (code: string) => createHash('sha256').update(code).digest('base64url');

/**
 * Authorization codes in the one-time store, under the SHA-256 of the code. The first use claims the code
 * before reading it, so a replay is recognised even while the first exchange is still running; the replay
 * leaves a mark that exchange checks once its tokens are stored (`replayed`).
 */
export function createCodeStore(values: OneTimeValues) {
  return {
    async issue(record: AuthorizationCode): Promise<string> {
      const code = randomBytes(32).toString('base64url');
      const key = digest(code);
      const family: CodeFamily = { clientId: record.clientId, refreshFamilyId: record.refreshFamilyId };
      await values.putOnce(`code-family:${key}`, JSON.stringify(family), USED_CODE_MEMORY_SECONDS);
      await values.putOnce(`code:${key}`, JSON.stringify(record), CODE_LIFETIME_SECONDS);
      return code;
    },
    /** Takes the code for its single use; any later use finds it claimed and is a replay. */
    async take(code: string): Promise<TakenCode> {
      const key = digest(code);
      if (await values.putOnce(`code-claim:${key}`, '1', USED_CODE_MEMORY_SECONDS)) {
        const raw = await values.takeOnce(`code:${key}`);
        // Claimed first but gone: unknown, or expired unused.
        if (raw === undefined) return { kind: 'unknown' };
        return { kind: 'valid', code: JSON.parse(raw) as AuthorizationCode };
      }
      const family = await values.peek(`code-family:${key}`);
      if (family === undefined) return { kind: 'unknown' };
      await values.putOnce(`code-replayed:${key}`, '1', USED_CODE_MEMORY_SECONDS);
      return { kind: 'reused', ...(JSON.parse(family) as CodeFamily) };
    },
    /** True when the code was presented again after its first use began. */
    async replayed(code: string): Promise<boolean> {
      return (await values.peek(`code-replayed:${digest(code)}`)) !== undefined;
    },
  };
}
export type CodeStore = ReturnType<typeof createCodeStore>;
