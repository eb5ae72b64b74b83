import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp } from '../../helpers/build-test-app.js';
import { createFactories } from '../../helpers/factories.js';
import { form } from '../../helpers/http.js';

const PASSWORD = 'Pass-word-123';
const forged = () => `${randomInt(1, 224)}.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

/**
 * Each documented LATCHKEY_TRUST_PROXY form, with the X-Forwarded-For a client behind that setup can send
 * (its own entries first, `forged`) followed by what the trusted proxies append. The inject peer is 127.0.0.1.
 */
const SETUPS: readonly (readonly [string, string, (spoofed: string) => string])[] = [
  // The attack: with `true` meaning "the leftmost entry", every guess came from a new address.
  ['true', '10.0.0.1', (spoofed) => `${spoofed}, 10.0.0.1`],
  ['1', '203.0.113.7', (spoofed) => `${spoofed}, 203.0.113.7`],
  ['2', '203.0.113.7', (spoofed) => `${spoofed}, 203.0.113.7, 10.0.0.9`],
  ['127.0.0.1', '203.0.113.7', (spoofed) => `${spoofed}, 203.0.113.7`],
  ['10.0.0.0/8, 127.0.0.0/8', '203.0.113.7', (spoofed) => `${spoofed}, 203.0.113.7, 10.0.0.9`],
  ['10.0.0.0/8,::1/128,127.0.0.1', '203.0.113.7', (spoofed) => `${spoofed}, 10.1.2.3, 203.0.113.7, 10.0.0.9`],
];

describe.each(testBackends())('LATCHKEY_TRUST_PROXY against forged X-Forwarded-For on $name', (backend) => {
  it.each(SETUPS)(
    'with %j keys brute-force limits on the nearest untrusted hop (%s), not on entries the client wrote',
    async (raw, client, chain) => {
      const { trustProxy } = loadConfig({
        LATCHKEY_TRUST_PROXY: raw,
        LATCHKEY_DATABASE_URL: 'sqlite::memory:',
      });
      const t = await buildTestApp(backend, { trustProxy });
      try {
        const make = createFactories(t.deps);
        const app = await make.client({ grantTypes: ['password'] });
        await make.enableConnection(app.clientId);
        const user = await make.user();
        const login = (password: string) =>
          t.app.inject({
            method: 'POST',
            url: '/oauth/token',
            ...form({
              grant_type: 'password',
              client_id: app.clientId,
              client_secret: app.clientSecret,
              username: user.email ?? '',
              password,
            }),
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              'x-forwarded-for': chain(forged()),
            },
          });
        const statuses: number[] = [];
        for (let i = 0; i < 25; i++) statuses.push((await login(`wrong-${i}`)).statusCode);
        expect(statuses).toEqual([...Array(10).fill(403), ...Array(15).fill(429)]);
        expect((await login(PASSWORD)).statusCode).toBe(429);
        const blocks = await t.deps.store.loginFailures.blocksFor([user.userId], 0);
        expect(blocks.map((b) => b.ip)).toEqual([client]);
      } finally {
        await t.close();
      }
    },
  );
});
