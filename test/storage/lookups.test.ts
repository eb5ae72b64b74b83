import { randomAlphanumeric } from '../../src/lib/ids.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../src/domain/client.js';
import { createLookups, LOOKUP_LIMITS } from '../../src/server/lookups.js';
import { testBackends } from '../helpers/backends.js';
import { createFakeClock } from '../helpers/fake-clock.js';
import { openTestStore, type TestStore } from '../helpers/store.js';

const client = (over: Partial<Client> = {}): Client => ({
  tenantId: 'default',
  clientId: randomAlphanumeric(24),
  clientSecret: randomAlphanumeric(48),
  name: 'Cached app',
  appType: 'non_interactive',
  isFirstParty: true,
  isSystem: false,
  tokenEndpointAuthMethod: 'client_secret_post',
  privateKeyJwtCredentialIds: [],
  grantTypes: ['client_credentials'],
  settings: {},
  createdAt: '2024-01-01T00:00:00.000Z',
  updatedAt: '2024-01-01T00:00:00.000Z',
  ...over,
});

// A change made straight in storage shows whether a lookup was answered from the cache.
describe.each(testBackends())('configuration lookups on $name', (backend) => {
  let s: TestStore;
  beforeAll(async () => {
    s = await openTestStore(backend);
  });
  afterAll(async () => {
    await s.close();
  });

  it('answers from the cache for a few seconds, then reads again', async () => {
    const clock = createFakeClock();
    const lookups = createLookups(s.store, clock.now);
    const app = client();
    await s.store.clients.insert(app);
    expect((await lookups.client(app.clientId))?.name).toBe('Cached app');
    await s.store.clients.update({ ...app, name: 'Renamed' });
    clock.advance(LOOKUP_LIMITS.ttlMs);
    expect((await lookups.client(app.clientId))?.name).toBe('Cached app');
    clock.advance(1);
    expect((await lookups.client(app.clientId))?.name).toBe('Renamed');
  });

  it('does not remember a miss: a client created later is found at once', async () => {
    const lookups = createLookups(s.store, createFakeClock().now);
    const app = client();
    expect(await lookups.client(app.clientId)).toBeUndefined();
    await s.store.clients.insert(app);
    expect((await lookups.client(app.clientId))?.clientId).toBe(app.clientId);
  });

  it('cannot be flushed by made-up client ids and audiences', async () => {
    const lookups = createLookups(s.store, createFakeClock().now, { ...LOOKUP_LIMITS, maxEntries: 3 });
    const app = client();
    await s.store.clients.insert(app);
    await lookups.client(app.clientId);
    await s.store.clients.update({ ...app, name: 'Renamed' });
    for (let i = 0; i < 20; i++) {
      await lookups.client(`made-up-${String(i)}`);
      await lookups.resourceServer(`https://made-up-${String(i)}.example.com/`);
    }
    expect((await lookups.client(app.clientId))?.name).toBe('Cached app');
  });

  it('forgets everything on invalidate, and a read that began before does not store what it read', async () => {
    const lookups = createLookups(s.store, createFakeClock().now);
    const app = client();
    await s.store.clients.insert(app);
    const racing = lookups.client(app.clientId);
    lookups.invalidate();
    await racing;
    await s.store.clients.update({ ...app, name: 'Renamed' });
    expect((await lookups.client(app.clientId))?.name).toBe('Renamed');
  });

  it("holds the union of every application's origins, shares one scan and clears on invalidation", async () => {
    const clock = createFakeClock();
    const lookups = createLookups(s.store, clock.now);
    const before = (await lookups.tenantOrigins()).length;
    // More clients than one page of the scan, the last one listing a new origin.
    for (let i = 0; i < 500; i += 1) await s.store.clients.insert(client());
    await s.store.clients.insert(client({ settings: { allowed_origins: ['https://a.example.com'] } }));
    const page = client({
      settings: { web_origins: ['https://a.example.com', 'https://*.b.example.com'], callbacks: ['x:y'] },
    });
    await s.store.clients.insert(page);
    lookups.invalidate();
    const [first, second] = await Promise.all([lookups.tenantOrigins(), lookups.tenantOrigins()]);
    expect(second).toBe(first);
    expect(first.slice(before)).toEqual([
      { kind: 'exact', origin: 'https://a.example.com' },
      {
        kind: 'wildcard',
        scheme: 'https:',
        port: '',
        labelPrefix: '',
        labelSuffix: '',
        parent: 'b.example.com',
      },
    ]);
    await s.store.clients.update({ ...page, settings: {} });
    expect(await lookups.tenantOrigins()).toBe(first);
    lookups.invalidate();
    expect((await lookups.tenantOrigins()).slice(before)).toEqual([
      { kind: 'exact', origin: 'https://a.example.com' },
    ]);
  });
});
