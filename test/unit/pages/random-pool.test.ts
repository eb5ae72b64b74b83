import { describe, expect, it } from 'vitest';
import { pooledRandomBase64 } from '../../../src/lib/random-pool.js';

describe('pooled random values (CSP nonces)', () => {
  it('hands out values of the asked size, never the same bytes twice, across pool refills', () => {
    const seen = new Set<string>();
    // 18-byte values: 4096 / 18 = 227 per pool, so 2,000 draws refill it several times.
    for (let i = 0; i < 2000; i++) {
      const value = pooledRandomBase64(18);
      expect(Buffer.from(value, 'base64')).toHaveLength(18);
      seen.add(value);
    }
    expect(seen.size).toBe(2000);
  });

  it('refuses sizes beyond a small token', () => {
    expect(() => pooledRandomBase64(257)).toThrow(RangeError);
  });
});
