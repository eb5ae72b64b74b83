import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { bootstrapTenant, type BootstrapInput } from '../../src/bootstrap/service.js';
import { DEFAULT_SERVER_SETTINGS, type Config } from '../../src/config/schema.js';
import { MANAGEMENT_SCOPES } from '../../src/management/scopes.js';
import { createDeps, type Deps } from '../../src/server/deps.js';
import { createStorage, dropSchema } from '../../src/storage/db.js';
import { migrateToLatest } from '../../src/storage/migrate.js';
import { testBackends } from '../helpers/backends.js';
import { createFakeClock } from '../helpers/fake-clock.js';
import { createTestKeyGenerator } from '../helpers/test-keys.js';

const ISSUER = 'https://boot.test/';

describe.each(testBackends())('tenant bootstrap on $name', (backend) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  async function freshDeps(secret = 'boot-secret-boot-secret-boot-secret-00'): Promise<Deps> {
    const schema = backend.name === 'postgres' ? `b_${randomBytes(6).toString('hex')}` : undefined;
    const storage = await createStorage(backend.url, schema === undefined ? {} : { schema });
    cleanups.push(async () => {
      await storage.close();
      if (schema !== undefined) await dropSchema(backend.url, schema);
    });
    await migrateToLatest(storage);
    const clock = createFakeClock();
    const config = { issuer: ISSUER, secret, server: DEFAULT_SERVER_SETTINGS } as Config;
    return createDeps(config, storage, { clock, generateKey: createTestKeyGenerator(() => clock.now()) });
  }

  const input = (over: Partial<BootstrapInput> = {}): BootstrapInput => ({
    tenantId: 'default',
    issuer: ISSUER,
    bootstrapClientId: undefined,
    bootstrapClientSecret: undefined,
    ...over,
  });

  it('creates keys, the Management API, the default connection and a bootstrap client with a full grant', async () => {
    const deps = await freshDeps();
    const { generatedClient } = await bootstrapTenant(input(), deps);
    expect(generatedClient?.clientId).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(generatedClient?.clientSecret.length).toBeGreaterThanOrEqual(32);

    const keys = await deps.store.signingKeys.list();
    expect(keys.map((k) => k.state)).toEqual(['current', 'next']);
    const api = await deps.store.resourceServers.findByIdentifier(`${ISSUER}api/v2/`);
    expect(api).toMatchObject({ name: 'Auth0 Management API', isSystem: true, signingAlg: 'RS256' });
    expect(api?.scopes.map((s) => s.value)).toEqual([...MANAGEMENT_SCOPES]);
    expect(await deps.store.connections.findByName('Username-Password-Authentication')).toMatchObject({
      strategy: 'auth0',
    });
    const tenant = await deps.store.tenants.find();
    expect(tenant?.settings['default_directory']).toBe('Username-Password-Authentication');
    expect(tenant?.bootstrapClientId).toBe(generatedClient?.clientId);
    const grants = await deps.store.clientGrants.list(
      { clientId: generatedClient?.clientId ?? '', audience: `${ISSUER}api/v2/` },
      { offset: 0, limit: 10 },
    );
    expect(grants).toHaveLength(1);
    expect(grants[0]).toMatchObject({ subjectType: 'client', scope: [...MANAGEMENT_SCOPES] });
  });

  it('is idempotent: a second start generates nothing and duplicates nothing', async () => {
    const deps = await freshDeps();
    const first = await bootstrapTenant(input(), deps);
    const second = await bootstrapTenant(input(), deps);
    expect(second.generatedClient).toBeUndefined();
    expect((await deps.store.signingKeys.list()).map((k) => k.kid)).toHaveLength(2);
    expect(await deps.store.clients.count()).toBe(1);
    expect(await deps.store.resourceServers.count()).toBe(1);
    expect((await deps.store.tenants.find())?.bootstrapClientId).toBe(first.generatedClient?.clientId);
    expect(await deps.store.clientGrants.count({})).toBe(1);
  });

  it('applies configured bootstrap credentials and follows a changed secret', async () => {
    const deps = await freshDeps();
    const configured = input({ bootstrapClientId: 'ops-bot', bootstrapClientSecret: 'first-secret-123456' });
    expect((await bootstrapTenant(configured, deps)).generatedClient).toBeUndefined();
    expect((await deps.store.clients.findById('ops-bot'))?.clientSecret).toBe('first-secret-123456');
    await bootstrapTenant({ ...configured, bootstrapClientSecret: 'second-secret-123456' }, deps);
    expect((await deps.store.clients.findById('ops-bot'))?.clientSecret).toBe('second-secret-123456');
    expect(await deps.store.clients.count()).toBe(1);
  });

  it('repairs a bootstrap client changed through the API so a restart always lets it back in', async () => {
    const deps = await freshDeps();
    const configured = input({ bootstrapClientId: 'ops-bot', bootstrapClientSecret: 'first-secret-123456' });
    await bootstrapTenant(configured, deps);
    const before = await deps.store.clients.findById('ops-bot');
    if (!before) throw new Error('no bootstrap client');
    await deps.store.clients.update({
      ...before,
      name: 'renamed by an operator',
      grantTypes: ['authorization_code'],
      isFirstParty: false,
      tokenEndpointAuthMethod: 'none',
    });
    await bootstrapTenant(configured, deps);
    expect(await deps.store.clients.findById('ops-bot')).toMatchObject({
      name: 'renamed by an operator',
      grantTypes: ['authorization_code', 'client_credentials'],
      isFirstParty: true,
      isSystem: true,
      tokenEndpointAuthMethod: 'client_secret_post',
      clientSecret: 'first-secret-123456',
    });
  });

  it('keeps private keys and client secrets encrypted at rest', async () => {
    const deps = await freshDeps();
    await bootstrapTenant(
      input({ bootstrapClientId: 'ops-bot', bootstrapClientSecret: 'plain-secret-123456' }),
      deps,
    );
    const keyRows = await deps.storage.db.selectFrom('signing_keys').select(['private_key']).execute();
    for (const row of keyRows) expect(row.private_key).not.toContain('PRIVATE KEY');
    const clientRow = await deps.storage.db
      .selectFrom('clients')
      .select(['client_secret'])
      .executeTakeFirstOrThrow();
    expect(clientRow.client_secret).not.toContain('plain-secret-123456');
    expect(clientRow.client_secret).toMatch(/^v1\./);
  });
});
