import { describe, expect, it } from 'vitest';
import type { SigningKey } from '../../../src/domain/signing-key.js';
import { Keystore } from '../../../src/keys/keystore.js';
import { createJwtSigner } from '../../../src/keys/signer.js';
import { TokenVerificationError } from '../../../src/oauth/tokens/verify-access-token.js';
import { createVerifiedTokens, type TokenCacheLimits } from '../../../src/server/verified-tokens.js';
import { createFakeClock } from '../../helpers/fake-clock.js';
import { createTestKeyGenerator } from '../../helpers/test-keys.js';

const ISSUER = 'https://latchkey.test/';

async function setUp(limits?: TokenCacheLimits) {
  const clock = createFakeClock(Date.UTC(2030, 0, 1));
  let keys: SigningKey[] = [await createTestKeyGenerator(clock.now)('current')];
  const keystore = new Keystore(async () => keys, clock.now);
  await keystore.reload();
  const signer = createJwtSigner(keystore);
  const tokens = createVerifiedTokens(ISSUER, keystore, clock.now, limits);
  const now = () => Math.floor(clock.now() / 1000);
  const mint = async (extra: Record<string, unknown> = {}) =>
    `Bearer ${await signer.sign(
      { iss: ISSUER, sub: 'x@clients', aud: 'https://api.test/', iat: now(), exp: now() + 60, ...extra },
      { alg: 'RS256', typ: 'JWT' },
    )}`;
  const remember = async (header: string) => tokens.verify(header, header.slice('Bearer '.length));
  const revokeAll = async () => {
    keys = keys.map((k) => ({ ...k, revokedAt: new Date(clock.now()).toISOString() }));
    await keystore.reload();
  };
  return { clock, tokens, mint, remember, revokeAll };
}

describe('verified tokens', () => {
  it('remembers a verified token, with its scopes parsed once, until it expires', async () => {
    const { clock, tokens, mint, remember } = await setUp();
    const header = await mint({ scope: 'read:a write:b', azp: 'app' });
    await remember(header);
    expect(tokens.get(header)?.auth).toMatchObject({
      sub: 'x@clients',
      clientId: 'app',
      scopes: new Set(['read:a', 'write:b']),
      isUser: false,
    });
    clock.advance(59_999);
    expect(tokens.get(header)).toBeDefined();
    clock.advance(1);
    expect(tokens.get(header)).toBeUndefined();
    await expect(remember(header)).rejects.toThrow(
      new TokenVerificationError('expired', 'Expired token received for JSON Web Token validation'),
    );
  });

  it('forgets tokens whose key is no longer published', async () => {
    const { tokens, mint, remember, revokeAll } = await setUp();
    const header = await mint();
    await remember(header);
    await revokeAll();
    expect(tokens.get(header)).toBeUndefined();
  });

  it('answers only for the exact header that carried the token', async () => {
    const { tokens, mint, remember } = await setUp();
    const header = await mint();
    await remember(header);
    expect(tokens.get(header.replace('Bearer ', 'Bearer  '))).toBeUndefined();
    expect(tokens.get(`x${header}`)).toBeUndefined();
  });

  it('holds no more than its size allows: the least recently used token goes first', async () => {
    const probe = await (await setUp()).mint();
    // Each entry counts twice its header's length; room for two, not three.
    const { tokens, mint, remember } = await setUp({ maxEntries: 1000, maxSize: probe.length * 5 });
    const [first, second, third] = [await mint({ n: 1 }), await mint({ n: 2 }), await mint({ n: 3 })];
    await remember(first);
    await remember(second);
    expect(tokens.get(first)).toBeDefined();
    await remember(third);
    expect([tokens.get(first), tokens.get(second), tokens.get(third)].map(Boolean)).toEqual([
      true,
      false,
      true,
    ]);
  });

  it('does not remember a token larger than the whole cache', async () => {
    const probe = await (await setUp()).mint();
    const { tokens, mint, remember } = await setUp({ maxEntries: 1000, maxSize: probe.length });
    const header = await mint();
    await remember(header);
    expect(tokens.get(header)).toBeUndefined();
  });
});
