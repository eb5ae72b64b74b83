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
  /** RFC 9449 §10: the DPoP key the authorization request named (`dpop_jkt`); the exchange must prove it. */
  readonly dpopJkt?: string;
  /** How the user authenticated (RFC 8176), kept only for a multi-factor sign-in (`mfa` in it). */
  readonly amr?: readonly string[];
  /** The ID token's `acr`: Auth0's multi-factor policy, when the request asked for it and got it. */
  readonly acr?: string;
}

export type TakenCode =
  | { readonly kind: 'valid'; readonly code: AuthorizationCode }
  | { readonly kind: 'reused'; readonly clientId: string; readonly refreshFamilyId: string }
  | { readonly kind: 'unknown' };

interface CodeFamily {
  readonly clientId: string;
  readonly refreshFamilyId: string;
}

/** As stored: the code's record with the end of its validity, kept longer so that a replay can be traced. */
interface StoredCode extends AuthorizationCode {
  /** Unix seconds; absent on codes stored before it was kept (their entry lived only as long as the code). */
  readonly expiresAt?: number;
}

const digest = (code: string) => createHash('sha256').update(code).digest('base64url');

/**
 * Authorization codes in the one-time store, under the SHA-256 of the code: one entry per code, kept for
 * USED_CODE_MEMORY_SECONDS though the code is valid for CODE_LIFETIME_SECONDS, so that a replay finds the
 * refresh-token family to revoke. The first use claims the code before reading it, so a replay is recognised
 * even while the first exchange is still running; the replay leaves a mark that exchange checks once its
 * tokens are stored (`replayed`). A sign-in writes once here and an exchange once: each write is a commit.
 */
export function createCodeStore(values: OneTimeValues, nowSeconds: () => number) {
  return {
    async issue(record: AuthorizationCode): Promise<string> {
      const code = randomBytes(32).toString('base64url');
      const stored: StoredCode = { ...record, expiresAt: nowSeconds() + CODE_LIFETIME_SECONDS };
      await values.putOnce(`code:${digest(code)}`, JSON.stringify(stored), USED_CODE_MEMORY_SECONDS);
      return code;
    },
    /** Takes the code for its single use; any later use finds it claimed and is a replay. */
    async take(code: string): Promise<TakenCode> {
      const key = digest(code);
      if (await values.putOnce(`code-claim:${key}`, '1', USED_CODE_MEMORY_SECONDS)) {
        const raw = await values.peek(`code:${key}`);
        if (raw === undefined) return { kind: 'unknown' };
        const stored = JSON.parse(raw) as StoredCode;
        // Claimed first but expired unused.
        if (stored.expiresAt !== undefined && stored.expiresAt <= nowSeconds()) return { kind: 'unknown' };
        const { expiresAt: _, ...record } = stored;
        return { kind: 'valid', code: record };
      }
      // Codes stored before one entry served both kept their family apart.
      const family = (await values.peek(`code:${key}`)) ?? (await values.peek(`code-family:${key}`));
      if (family === undefined) return { kind: 'unknown' };
      await values.putOnce(`code-replayed:${key}`, '1', USED_CODE_MEMORY_SECONDS);
      const { clientId, refreshFamilyId } = JSON.parse(family) as CodeFamily;
      return { kind: 'reused', clientId, refreshFamilyId };
    },
    /** True when the code was presented again after its first use began. */
    async replayed(code: string): Promise<boolean> {
      return (await values.peek(`code-replayed:${digest(code)}`)) !== undefined;
    },
  };
}
export type CodeStore = ReturnType<typeof createCodeStore>;
