import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it, type ExpectStatic } from 'vitest';
import { testBackends, type TestBackend } from '../../helpers/backends.js';
import {
  BOOTSTRAP_CLIENT_ID,
  BOOTSTRAP_CLIENT_SECRET,
  buildTestApp,
  type TestApp,
} from '../../helpers/build-test-app.js';
import { api } from '../../helpers/http.js';
import { startTlsProxy, type TlsProxy } from '../../helpers/tls-proxy.js';

const run = promisify(execFile);
const A0DEPLOY = createRequire(import.meta.url).resolve('auth0-deploy-cli/lib/index.js');

// What Latchkey has today; the CLI's `databases` type holds database (strategy auth0) connections.
const INCLUDED = ['tenant', 'resourceServers', 'clients', 'clientGrants', 'roles', 'databases'];

type Json = Record<string, unknown>;

interface Session {
  readonly t: TestApp;
  readonly token: string;
  readonly dir: string;
  readonly configFile: string;
  readonly caFile: string;
}

async function call(s: Session, method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown) {
  const res = await api(s.t.app, { method, url: `/api/v2${url}`, token: s.token, body });
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  return (res.body === '' ? {} : res.json()) as Json & Json[];
}

async function a0deploy(s: Session, ...args: string[]) {
  try {
    return await run(process.execPath, [A0DEPLOY, ...args, '-c', s.configFile], {
      // A bare environment: the CLI treats every environment variable as a keyword to replace in the files.
      env: { PATH: process.env['PATH'] ?? '', NODE_EXTRA_CA_CERTS: s.caFile },
      timeout: 120_000,
    });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`a0deploy ${args[0] ?? ''} failed:\n${stdout}\n${stderr}`);
  }
}

/** Everything the exported types cover, read through the Management API. */
async function readState(s: Session) {
  const roles = await call(s, 'GET', '/roles?per_page=100');
  return {
    tenant: await call(s, 'GET', '/tenants/settings'),
    resourceServers: await call(s, 'GET', '/resource-servers?per_page=100'),
    clients: await call(s, 'GET', '/clients?per_page=100'),
    clientGrants: await call(s, 'GET', '/client-grants?per_page=100'),
    connections: await call(s, 'GET', '/connections?per_page=100'),
    roles: await Promise.all(
      roles.map(async (r) => ({
        ...r,
        permissions: await call(s, 'GET', `/roles/${String(r['id'])}/permissions?per_page=100`),
      })),
    ),
  };
}

/** A tenant with one of each exported type, behind an https proxy the CLI trusts. */
async function startSession(backend: TestBackend, proxy: TlsProxy): Promise<Session> {
  const t = await buildTestApp(backend, { issuer: `https://${proxy.domain}/` });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const address = t.app.server.address();
  proxy.forwardTo(typeof address === 'object' && address ? address.port : 0);
  const dir = await mkdtemp(join(tmpdir(), 'latchkey-a0deploy-'));
  const s: Session = {
    t,
    token: await t.managementToken(),
    dir,
    caFile: join(dir, 'proxy-ca.pem'),
    configFile: join(dir, 'config.json'),
  };
  await writeFile(s.caFile, proxy.certPem);
  await writeFile(
    s.configFile,
    JSON.stringify({
      AUTH0_DOMAIN: proxy.domain,
      AUTH0_CLIENT_ID: BOOTSTRAP_CLIENT_ID,
      AUTH0_CLIENT_SECRET: BOOTSTRAP_CLIENT_SECRET,
      AUTH0_INCLUDED_ONLY: INCLUDED,
    }),
  );

  await call(s, 'POST', '/resource-servers', {
    name: 'Orders',
    identifier: 'https://orders.example.com/',
    scopes: [{ value: 'read:orders', description: 'Read orders' }, { value: 'write:orders' }],
    enforce_policies: true,
    token_dialect: 'access_token_authz',
  });
  const sync = await call(s, 'POST', '/clients', { name: 'Order sync', app_type: 'non_interactive' });
  const web = await call(s, 'POST', '/clients', {
    name: 'Shop',
    app_type: 'regular_web',
    callbacks: ['https://shop.example.com/callback'],
    allowed_logout_urls: ['https://shop.example.com/'],
  });
  await call(s, 'POST', '/client-grants', {
    client_id: sync['client_id'],
    audience: 'https://orders.example.com/',
    scope: ['read:orders'],
  });
  const role = await call(s, 'POST', '/roles', { name: 'order_reader', description: 'Reads orders' });
  await call(s, 'POST', `/roles/${String(role['id'])}/permissions`, {
    permissions: [
      { resource_server_identifier: 'https://orders.example.com/', permission_name: 'read:orders' },
    ],
  });
  await call(s, 'POST', '/connections', {
    name: 'customers',
    strategy: 'auth0',
    enabled_clients: [web['client_id']],
    options: { passwordPolicy: 'excellent', requires_username: true },
  });
  await call(s, 'PATCH', '/tenants/settings', {
    friendly_name: 'Shop tenant',
    session_lifetime_in_minutes: 90,
    idle_session_lifetime_in_minutes: 45,
  });
  return s;
}

// Auth0's Deploy CLI, run as a child process against a listening server behind an https proxy (it speaks
// https only), so what the real tool sends and expects is what is tested. The backends run side by side:
// the CLI spends most of its time validating its own schema.
describe('auth0-deploy-cli (a0deploy)', () => {
  it.concurrent.for(testBackends())(
    'exports the tenant, applies an edited import, and a second import of the same files changes nothing on $name',
    { timeout: 240_000 },
    async (backend, { expect }) => {
      const proxy = await startTlsProxy();
      const s = await startSession(backend, proxy).catch(async (error: unknown) => {
        await proxy.close();
        throw error;
      });
      try {
        await roundTrip(s, expect);
      } finally {
        await s.t.close();
        await proxy.close();
        await rm(s.dir, { recursive: true, force: true });
      }
    },
  );
});

async function roundTrip(s: Session, expect: ExpectStatic): Promise<void> {
  const out = join(s.dir, 'tenant');
  await a0deploy(s, 'export', '-f', 'directory', '-o', out);
  const files = (await readdir(out, { recursive: true })).filter((f) => f.endsWith('.json')).sort();
  expect(files).toEqual([
    'clients/Latchkey Bootstrap (Management API).json',
    'clients/Order sync.json',
    'clients/Shop.json',
    'database-connections/Username-Password-Authentication/database.json',
    'database-connections/customers/database.json',
    'grants/Order sync-Orders.json',
    'resource-servers/Orders.json',
    'roles/order_reader.json',
    'tenant.json',
  ]);
  const readJson = async (file: string) => JSON.parse(await readFile(join(out, file), 'utf8')) as Json;
  expect(await readJson('tenant.json')).toMatchObject({
    friendly_name: 'Shop tenant',
    session_lifetime: 1.5,
    idle_session_lifetime: 0.75,
  });
  expect(await readJson('database-connections/customers/database.json')).toMatchObject({
    name: 'customers',
    strategy: 'auth0',
    enabled_clients: ['Shop'],
    options: { passwordPolicy: 'excellent', requires_username: true },
  });
  expect(await readJson('grants/Order sync-Orders.json')).toEqual({
    client_id: 'Order sync',
    audience: 'https://orders.example.com/',
    scope: ['read:orders'],
    subject_type: 'client',
    allow_all_scopes: false,
    authorization_details_types: [],
    is_system: false,
  });

  const editJson = async (file: string, edit: (j: Json) => Json) => {
    await writeFile(join(out, file), JSON.stringify(edit(await readJson(file)), null, 2));
  };
  await editJson('clients/Shop.json', (c) => ({
    ...c,
    callbacks: ['https://shop.example.com/callback', 'https://shop.example.com/v2/callback'],
  }));
  await editJson('roles/order_reader.json', (r) => ({ ...r, description: 'Reads every order' }));
  await editJson('tenant.json', (s) => ({ ...s, friendly_name: 'Shop', session_lifetime: 2 }));
  await editJson('grants/Order sync-Orders.json', (g) => ({ ...g, scope: ['read:orders', 'write:orders'] }));
  await editJson('database-connections/customers/database.json', (c) => ({
    ...c,
    options: { ...(c['options'] as Json), passwordPolicy: 'fair' },
    enabled_clients: ['Shop', 'Order sync'],
  }));

  await a0deploy(s, 'import', '-i', out);
  const applied = await readState(s);
  expect(applied.tenant).toMatchObject({
    friendly_name: 'Shop',
    session_lifetime: 2,
    idle_session_lifetime: 0.75,
  });
  expect(applied.clients.find((c) => c['name'] === 'Shop')).toMatchObject({
    callbacks: ['https://shop.example.com/callback', 'https://shop.example.com/v2/callback'],
  });
  expect(applied.roles).toEqual([
    expect.objectContaining({ name: 'order_reader', description: 'Reads every order' }),
  ]);
  expect(applied.clientGrants.find((g) => g['audience'] === 'https://orders.example.com/')).toMatchObject({
    scope: ['read:orders', 'write:orders'],
  });
  const clientId = (name: string) => applied.clients.find((c) => c['name'] === name)?.['client_id'];
  const customers = applied.connections.find((c) => c['name'] === 'customers');
  expect(customers).toMatchObject({ options: { passwordPolicy: 'fair', requires_username: true } });
  expect(customers?.['enabled_clients']).toEqual(
    expect.arrayContaining([clientId('Shop'), clientId('Order sync')]),
  );
  expect(customers?.['enabled_clients']).toHaveLength(2);

  await a0deploy(s, 'import', '-i', out);
  expect(await readState(s)).toEqual(applied);
}
