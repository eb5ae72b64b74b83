import { hash as bcryptHash } from '@node-rs/bcrypt';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import { PASSWORD_CHECK_FLOOR_MS } from '../../../src/users/authenticate.js';
import { BCRYPT_MAX_COST } from '../../../src/users/passwords.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories } from '../../helpers/factories.js';
import { api, form } from '../../helpers/http.js';

const PASSWORD = 'Pass-word-123';
const FLOOR = PASSWORD_CHECK_FLOOR_MS;
/** Generous: only a hash run far above the cap (seconds to days) or a missing floor can break the bounds. */
const SLACK_MS = 1000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

describe.each(testBackends())('password sign-in timing on $name', (backend) => {
  let t: TestApp;
  let client: Client;
  const emails = {
    argon2: 'argon2@example.com',
    imported: 'imported@example.com',
    importedToo: 'imported-too@example.com',
    blocked: 'blocked@example.com',
    overCap: 'over-cap@example.com',
    throttled: 'throttled@example.com',
  };
  beforeAll(async () => {
    t = await buildTestApp(backend, {}, { passwordCheckFloorMs: FLOOR });
    const make = createFactories(t.deps);
    client = await make.client({ grantTypes: ['password'] });
    await make.enableConnection(client.clientId);
    await make.user({ email: emails.argon2 });
    await make.user({ email: emails.blocked, blocked: true });
    await make.user({ email: emails.throttled });
    // Imported before the cost cap existed; the API now refuses such a hash. Running it would take days.
    const cheap = await bcryptHash(PASSWORD, 4);
    await make.user({ email: emails.overCap, passwordHash: cheap.replace(/^\$2[aby]\$04\$/, '$2b$31$') });
    const token = await t.managementToken();
    for (const email of [emails.imported, emails.importedToo]) {
      const value = await bcryptHash(PASSWORD, BCRYPT_MAX_COST);
      const res = await api(t.app, {
        method: 'POST',
        url: '/api/v2/users',
        token,
        body: {
          connection: 'Username-Password-Authentication',
          email,
          custom_password_hash: { algorithm: 'bcrypt', hash: { value } },
        },
      });
      expect(res.statusCode).toBe(201);
    }
  });
  afterAll(async () => {
    await t.close();
  });

  const timed = async (username: string, password: string, ip = '198.51.100.20') => {
    const started = performance.now();
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      remoteAddress: ip,
      ...form({
        grant_type: 'password',
        client_id: client.clientId,
        client_secret: client.clientSecret,
        username,
        password,
      }),
    });
    return { status: res.statusCode, ms: performance.now() - started };
  };

  it('answers every outcome no sooner than the floor and without running an over-cost hash', async () => {
    for (let i = 0; i < 10; i++) await timed(emails.throttled, 'wrong', '198.51.100.21');
    const outcomes = {
      unknownUser: await timed('nobody@example.com', 'wrong'),
      wrongArgon2: await timed(emails.argon2, 'wrong'),
      wrongImported: await timed(emails.imported, 'wrong'),
      rightImported: await timed(emails.imported, PASSWORD),
      blockedUser: await timed(emails.blocked, PASSWORD),
      overCostHash: await timed(emails.overCap, PASSWORD),
      throttledPair: await timed(emails.throttled, PASSWORD, '198.51.100.21'),
    };
    expect(Object.fromEntries(Object.entries(outcomes).map(([k, o]) => [k, o.status]))).toEqual({
      unknownUser: 403,
      wrongArgon2: 403,
      wrongImported: 403,
      rightImported: 200,
      blockedUser: 401,
      overCostHash: 403,
      throttledPair: 429,
    });
    for (const [outcome, { ms }] of Object.entries(outcomes)) {
      // Timers may fire up to a millisecond early against performance.now().
      expect({ outcome, atLeastFloor: ms >= FLOOR - 1, withinSlack: ms < FLOOR + SLACK_MS }).toEqual({
        outcome,
        atLeastFloor: true,
        withinSlack: true,
      });
    }
  });

  it('answers an imported bcrypt user (at the cost cap) no slower than an unknown user', async () => {
    const imported: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 5; i++) {
      imported.push((await timed(emails.importedToo, `wrong-${i}`)).ms);
      unknown.push((await timed(`nobody-${i}@example.com`, `wrong-${i}`)).ms);
    }
    expect(median(unknown)).toBeGreaterThanOrEqual(FLOOR - 1);
    expect(median(imported) - median(unknown)).toBeLessThan(100);
  });
});
