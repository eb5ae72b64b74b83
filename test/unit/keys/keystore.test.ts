import { describe, expect, it } from 'vitest';
import { Keystore } from '../../../src/keys/keystore.js';

describe('Keystore reloads', () => {
  it('looks again for an unknown kid at most once a second, and on schedule every 30 s', async () => {
    let now = 1_000_000;
    let loads = 0;
    const keystore = new Keystore(
      async () => {
        loads += 1;
        return [];
      },
      () => now,
    );
    await keystore.reload();
    expect(loads).toBe(1);
    for (let i = 0; i < 50; i++) await keystore.lookAgain();
    expect(loads).toBe(1);
    now += 1000;
    await Promise.all([keystore.lookAgain(), keystore.lookAgain(), keystore.lookAgain()]);
    expect(loads).toBe(2);
    now += 29_999;
    await keystore.ensureFresh();
    expect(loads).toBe(2);
    now += 1;
    await keystore.ensureFresh();
    expect(loads).toBe(3);
  });
});
