import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const VERSION = 'v1';

/** A sealed value that this key cannot open: almost always a changed LATCHKEY_SECRET. */
export class SecretMismatch extends Error {
  constructor(options?: ErrorOptions) {
    super('a stored secret cannot be decrypted with this LATCHKEY_SECRET', options);
    this.name = 'SecretMismatch';
  }
}

/** AES-256-GCM sealing of secrets at rest, keyed from LATCHKEY_SECRET. */
export interface SecretBox {
  seal(plaintext: string): string;
  /** @throws Error when the value was not sealed with this key or was tampered with. */
  open(sealed: string): string;
}

export function createSecretBox(secret: string): SecretBox {
  const key = createHash('sha256').update(`latchkey:secret-box:${secret}`).digest();
  return {
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [VERSION, iv.toString('base64url'), data.toString('base64url'), tag.toString('base64url')].join(
        '.',
      );
    },
    open(sealed) {
      const [version, iv, data, tag] = sealed.split('.');
      if (version !== VERSION || iv === undefined || data === undefined || tag === undefined) {
        throw new Error('not a sealed value');
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString(
          'utf8',
        );
      } catch (cause) {
        throw new SecretMismatch({ cause });
      }
    },
  };
}

/** Constant-time comparison of two strings of any length. */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}
