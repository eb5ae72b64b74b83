import { randomBytes, randomUUID } from 'node:crypto';

const ALPHANUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Random string over [A-Za-z0-9] without modulo bias. */
export function randomAlphanumeric(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 248 = 62 * 4: reject the tail so every character is equally likely.
      if (byte < 248) out += ALPHANUM.charAt(byte % 62);
      if (out.length === length) break;
    }
  }
  return out;
}

export interface Ids {
  /** Prefixed opaque id, e.g. `cgr_…`, `cred_…`. */
  prefixed(prefix: string): string;
  clientId(): string;
  clientSecret(): string;
  uuid(): string;
}

export const randomIds: Ids = {
  prefixed: (prefix) => `${prefix}_${randomAlphanumeric(16)}`,
  clientId: () => randomAlphanumeric(32),
  clientSecret: () => randomBytes(48).toString('base64url'),
  uuid: () => randomUUID(),
};

/** Resource servers use 24 hex characters, like Auth0's object ids. */
export function hexId(): string {
  return randomBytes(12).toString('hex');
}
