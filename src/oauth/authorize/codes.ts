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

const digest = (code: string) => createHash('sha256').update(code).digest('base64url');

/** Authorization codes in the one-time store, under the SHA-256 of the code. */
export function createCodeStore(values: OneTimeValues) {
  return {
    async issue(record: AuthorizationCode): Promise<string> {
      const code = randomBytes(32).toString('base64url');
      await values.putOnce(`code:${digest(code)}`, JSON.stringify(record), CODE_LIFETIME_SECONDS);
      return code;
    },
    /** Takes the code for its single use; a second use finds the record its first use left. */
    async take(code: string): Promise<TakenCode> {
      const key = digest(code);
      const raw = await values.takeOnce(`code:${key}`);
      if (raw === undefined) {
        const used = await values.takeOnce(`code-used:${key}`);
        if (used === undefined) return { kind: 'unknown' };
        return { kind: 'reused', ...(JSON.parse(used) as { clientId: string; refreshFamilyId: string }) };
      }
      const record = JSON.parse(raw) as AuthorizationCode;
      const used = { clientId: record.clientId, refreshFamilyId: record.refreshFamilyId };
      await values.putOnce(`code-used:${key}`, JSON.stringify(used), USED_CODE_MEMORY_SECONDS);
      return { kind: 'valid', code: record };
    },
  };
}
export type CodeStore = ReturnType<typeof createCodeStore>;
