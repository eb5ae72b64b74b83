import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { BOOTSTRAP_CLIENT_ID, MGMT_AUDIENCE } from '../../helpers/build-test-app.js';
import { collect, startSdkServer, type SdkServer } from '../../helpers/sdk.js';

const API = 'https://sdk-apps.example.com/';
const GRANTS_API = 'https://sdk-grants.example.com/';
const publicPem = (): string =>
  generateKeyPairSync('rsa', { modulusLength: 2048 })
    .publicKey.export({ type: 'spki', format: 'pem' })
    .toString();

// auth0 v7's ManagementClient against a listening server: every method of the resource-server, client,
// client-grant, signing-key and tenant-settings endpoints, and the exact requests each one sends.
describe.each(testBackends())(
  'auth0 v7 ManagementClient: APIs, applications, keys, tenant on $name',
  (backend) => {
    let s: SdkServer;
    beforeAll(async () => {
      s = await startSdkServer(backend);
    });
    afterAll(async () => {
      await s.close();
    });
    const lastSent = () => s.sent.at(-1);

    it('resourceServers: create, get (by id and identifier), update, list every way, delete', async () => {
      const { management: m } = s;
      const rs = await m.resourceServers.create({
        name: 'SDK API',
        identifier: API,
        scopes: [{ value: 'read:x', description: 'Read x' }, { value: 'write:x' }],
        token_lifetime_for_anonymous_access_tokens: 600,
      });
      expect(rs).toEqual({
        id: expect.any(String),
        name: 'SDK API',
        identifier: API,
        is_system: false,
        scopes: [{ value: 'read:x', description: 'Read x' }, { value: 'write:x' }],
        signing_alg: 'RS256',
        allow_offline_access: false,
        skip_consent_for_verifiable_first_party_clients: false,
        token_lifetime: 86400,
        token_lifetime_for_web: 7200,
        enforce_policies: false,
        token_dialect: 'access_token',
        subject_type_authorization: {
          user: { policy: 'allow_all' },
          client: { policy: 'require_client_grant' },
        },
        token_lifetime_for_anonymous_access_tokens: 600,
      });
      const id = rs.id ?? '';
      expect(await m.resourceServers.get(id)).toEqual(rs);
      expect(await m.resourceServers.get(API, { include_fields: true })).toEqual(rs);
      expect(lastSent()).toBe(`GET /api/v2/resource-servers/${encodeURIComponent(API)}?include_fields=true`);

      const updated = await m.resourceServers.update(id, {
        token_lifetime: 1200,
        subject_type_authorization: {
          client: { policy: 'deny_all' },
          anonymous_user: { policy: 'deny_all' },
        },
      });
      expect(updated).toEqual({
        ...rs,
        token_lifetime: 1200,
        token_lifetime_for_web: 1200,
        subject_type_authorization: {
          user: { policy: 'allow_all' },
          client: { policy: 'deny_all' },
          anonymous_user: { policy: 'deny_all' },
        },
      });

      const all = await m.resourceServers.list();
      expect(lastSent()).toBe('GET /api/v2/resource-servers?page=0&per_page=50&include_totals=true');
      expect(all.response).toEqual({ start: 0, limit: 50, total: 2, resource_servers: all.data });
      expect(all.data.map((r) => r.identifier).sort()).toEqual([MGMT_AUDIENCE, API].sort());
      expect(
        (await m.resourceServers.list({ identifiers: [API, 'https://none.example.com/'] })).data,
      ).toEqual([updated]);
      expect(lastSent()).toBe(
        `GET /api/v2/resource-servers?identifiers=${encodeURIComponent(API)}&identifiers=${encodeURIComponent('https://none.example.com/')}&page=0&per_page=50&include_totals=true`,
      );
      // The SDK follows pages itself until one comes back short.
      s.sent.length = 0;
      expect((await collect(await m.resourceServers.list({ per_page: 1 }))).map((r) => r.identifier)).toEqual(
        all.data.map((r) => r.identifier),
      );
      expect(s.sent).toEqual([
        'GET /api/v2/resource-servers?page=0&per_page=1&include_totals=true',
        'GET /api/v2/resource-servers?page=1&per_page=1&include_totals=true',
        'GET /api/v2/resource-servers?page=2&per_page=1&include_totals=true',
      ]);
      const bare = await m.resourceServers.list({ include_totals: false });
      expect(bare.response).toEqual(all.data.map((r) => (r.id === id ? updated : r)));

      await m.resourceServers.delete(id);
      await expect(m.resourceServers.get(id)).rejects.toMatchObject({
        statusCode: 404,
        body: {
          statusCode: 404,
          error: 'Not Found',
          message: 'Resource server not found.',
          errorCode: 'inexistent_resource_server',
        },
      });
    });

    it('clients: create, get, update, rotateSecret, list with every filter, credentials, delete', async () => {
      const { management: m } = s;
      const created = await m.clients.create({
        name: 'SDK app',
        app_type: 'non_interactive',
        description: 'made by auth0 v7',
        client_metadata: { team: 'sdk' },
        is_token_endpoint_ip_header_trusted: false,
        organization_discovery_methods: ['email'],
      });
      const id = created.client_id ?? '';
      expect(id).toMatch(/^[A-Za-z0-9]{32}$/);
      expect(created).toMatchObject({
        name: 'SDK app',
        app_type: 'non_interactive',
        is_first_party: true,
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_post',
        client_secret: expect.any(String),
        description: 'made by auth0 v7',
        client_metadata: { team: 'sdk' },
        is_token_endpoint_ip_header_trusted: false,
        organization_discovery_methods: ['email'],
      });
      expect(await m.clients.get(id)).toEqual(created);
      expect(await m.clients.get(id, { fields: 'client_id,name', include_fields: true })).toEqual({
        client_id: id,
        name: 'SDK app',
      });
      expect(lastSent()).toBe(`GET /api/v2/clients/${id}?fields=client_id%2Cname&include_fields=true`);

      const spa = await m.clients.create({ name: 'SDK spa', app_type: 'spa', is_first_party: false });
      const updated = await m.clients.update(id, {
        name: 'SDK app v2',
        callbacks: ['https://sdk.example.com/cb'],
        compliance_level: null,
      });
      expect(updated).toEqual({
        ...created,
        name: 'SDK app v2',
        callbacks: ['https://sdk.example.com/cb'],
        compliance_level: null,
      });
      const rotated = await m.clients.rotateSecret(id);
      expect(rotated).toEqual({ ...updated, client_secret: expect.any(String) });
      expect(rotated.client_secret).not.toBe(created.client_secret);

      const names = (page: { data: { name?: string | undefined }[] }) => page.data.map((c) => c.name);
      const bootstrap = (await m.clients.get(BOOTSTRAP_CLIENT_ID)).name;
      const all = await m.clients.list();
      expect(lastSent()).toBe('GET /api/v2/clients?page=0&per_page=50&include_totals=true');
      expect(all.response).toMatchObject({ start: 0, limit: 50, total: 3 });
      expect(names(all).sort()).toEqual([bootstrap, 'SDK app v2', 'SDK spa'].sort());
      expect(names(await m.clients.list({ is_global: false, app_type: 'spa,native' }))).toEqual(['SDK spa']);
      expect(lastSent()).toBe(
        'GET /api/v2/clients?page=0&per_page=50&include_totals=true&is_global=false&app_type=spa%2Cnative',
      );
      expect(names(await m.clients.list({ is_global: true }))).toEqual([]);
      expect(names(await m.clients.list({ is_first_party: false }))).toEqual(['SDK spa']);
      expect(
        names(await m.clients.list({ external_client_id: 'https://app.example.com/cimd.json' })),
      ).toEqual([]);
      expect(
        names(await m.clients.list({ fields: 'name', include_fields: true, page: 1, per_page: 2 })),
      ).toEqual(names(all).slice(2));
      expect((await collect(await m.clients.list({ per_page: 2 }))).map((c) => c.name)).toEqual(names(all));
      // Auth0 docs: q "requires use of the from and take paging parameters"; v7 sends take only when asked to.
      await expect(m.clients.list({ q: 'client_grant.allow_any_organization:true' })).rejects.toMatchObject({
        statusCode: 400,
        body: {
          errorCode: 'invalid_query_string',
          message: 'Query validation error: q requires from/take paging.',
        },
      });
      const byQuery = await m.clients.list(
        { q: 'client_grant.allow_any_organization:true' },
        { queryParams: { take: 10 } },
      );
      expect(byQuery.data).toEqual([]);

      const pem = publicPem();
      const credential = await m.clients.credentials.create(id, {
        credential_type: 'public_key',
        name: 'sdk key',
        pem,
        alg: 'RS256',
      });
      expect(credential).toEqual({
        id: expect.stringMatching(/^cred_/),
        name: 'sdk key',
        kid: expect.any(String),
        alg: 'RS256',
        credential_type: 'public_key',
        thumbprint: credential.kid,
        created_at: expect.any(String),
        updated_at: expect.any(String),
      });
      const credentialId = credential.id ?? '';
      expect(await m.clients.credentials.list(id)).toEqual([credential]);
      expect(await m.clients.credentials.get(id, credentialId)).toEqual(credential);
      const expiring = await m.clients.credentials.update(id, credentialId, {
        expires_at: '2031-01-01T00:00:00.000Z',
      });
      expect(expiring).toEqual({
        ...credential,
        expires_at: '2031-01-01T00:00:00.000Z',
        updated_at: expect.any(String),
      });
      const keyed = await m.clients.update(id, {
        client_authentication_methods: { private_key_jwt: { credentials: [{ id: credentialId }] } },
        token_endpoint_auth_method: null,
      });
      expect(keyed).toMatchObject({
        token_endpoint_auth_method: null,
        client_authentication_methods: { private_key_jwt: { credentials: [{ id: credentialId }] } },
      });
      await m.clients.update(id, { client_authentication_methods: null });
      await m.clients.credentials.delete(id, credentialId);
      expect(await m.clients.credentials.list(id)).toEqual([]);

      // Auth0 docs: POST /clients creates private_key_jwt credentials given inline.
      const withKey = await m.clients.create({
        name: 'SDK keyed',
        app_type: 'non_interactive',
        client_authentication_methods: {
          private_key_jwt: {
            credentials: [{ credential_type: 'public_key', name: 'inline', pem: publicPem() }],
          },
        },
      });
      const inline = await m.clients.credentials.list(withKey.client_id ?? '');
      expect(inline).toEqual([expect.objectContaining({ name: 'inline', alg: 'RS256' })]);
      expect(withKey).toMatchObject({
        token_endpoint_auth_method: null,
        client_authentication_methods: { private_key_jwt: { credentials: [{ id: inline[0]?.id }] } },
      });

      for (const c of [id, spa.client_id ?? '', withKey.client_id ?? '']) await m.clients.delete(c);
      await expect(m.clients.get(id)).rejects.toMatchObject({
        statusCode: 404,
        body: { errorCode: 'inexistent_client', message: 'The client does not exist' },
      });
    });

    it('clientGrants: create, get, update, list by default, by filter and by checkpoint, delete', async () => {
      const { management: m } = s;
      await m.resourceServers.create({
        identifier: GRANTS_API,
        scopes: [{ value: 'read:x' }, { value: 'write:x' }],
      });
      const clients = await Promise.all(
        ['one', 'two', 'three'].map((name) => m.clients.create({ name, app_type: 'non_interactive' })),
      );
      const grants = [];
      for (const c of clients) {
        grants.push(
          await m.clientGrants.create({
            client_id: c.client_id ?? '',
            audience: GRANTS_API,
            scope: ['read:x'],
          }),
        );
      }
      const first = grants[0];
      expect(first).toEqual({
        id: expect.stringMatching(/^cgr_/),
        client_id: clients[0]?.client_id,
        audience: GRANTS_API,
        scope: ['read:x'],
        is_system: false,
        subject_type: 'client',
        authorization_details_types: [],
        allow_all_scopes: false,
      });
      const id = first?.id ?? '';
      expect(await m.clientGrants.get(id)).toEqual(first);
      const changed = await m.clientGrants.update(id, {
        scope: ['read:x', 'write:x'],
        allow_all_scopes: null,
      });
      expect(changed).toEqual({ ...first, scope: ['read:x', 'write:x'] });

      // v7 sends include_totals=true with take=50 and reads `client_grants`/`next`: a checkpoint page.
      const listed = await m.clientGrants.list({ audience: GRANTS_API });
      expect(lastSent()).toBe(
        `GET /api/v2/client-grants?include_totals=true&take=50&audience=${encodeURIComponent(GRANTS_API)}`,
      );
      expect(listed.response).toEqual({ client_grants: [changed, ...grants.slice(1)].sort(byId) });
      expect((await m.clientGrants.list({ client_id: clients[1]?.client_id ?? '' })).data).toEqual([
        grants[1],
      ]);
      expect((await m.clientGrants.list({ subject_type: 'user', audience: GRANTS_API })).data).toEqual([]);
      expect((await m.clientGrants.list({ default_for: 'third_party_clients' })).data).toEqual([]);
      expect((await m.clientGrants.list({ allow_any_organization: true })).data).toEqual([]);
      s.sent.length = 0;
      const paged = await collect(await m.clientGrants.list({ audience: GRANTS_API, take: 2 }));
      expect(paged.map((g) => g.id)).toEqual(listed.data.map((g) => g.id));
      expect(s.sent).toEqual([
        `GET /api/v2/client-grants?include_totals=true&take=2&audience=${encodeURIComponent(GRANTS_API)}`,
        expect.stringMatching(
          /^GET \/api\/v2\/client-grants\?include_totals=true&from=[\w-]+&take=2&audience=/,
        ),
      ]);
      const all = await collect(await m.clientGrants.list());
      expect(all.map((g) => g.audience).sort()).toEqual([MGMT_AUDIENCE, GRANTS_API, GRANTS_API, GRANTS_API]);

      // Auth0 docs: scope is nullable on PATCH.
      expect(await m.clientGrants.update(id, { scope: null })).toEqual({ ...changed, scope: [] });
      await m.clientGrants.delete(id);
      await expect(m.clientGrants.get(id)).rejects.toMatchObject({
        statusCode: 404,
        body: { errorCode: 'inexistent_grant' },
      });
    });

    it('tenants.settings: get, get with fields, update in hours and in minutes', async () => {
      const { management: m } = s;
      const settings = await m.tenants.settings.get();
      expect(settings).toEqual({
        friendly_name: 'Latchkey',
        default_directory: 'Username-Password-Authentication',
        default_audience: '',
        session_lifetime: 168,
        idle_session_lifetime: 72,
        enabled_locales: ['en'],
        flags: { enable_idtoken_api2: false },
      });
      expect(await m.tenants.settings.get({ fields: 'friendly_name', include_fields: true })).toEqual({
        friendly_name: 'Latchkey',
      });
      expect(lastSent()).toBe('GET /api/v2/tenants/settings?fields=friendly_name&include_fields=true');
      const minutes = await m.tenants.settings.update({
        session_lifetime_in_minutes: 90,
        idle_session_lifetime_in_minutes: 30,
        ephemeral_session_lifetime: 2,
        device_flow: { charset: 'digits', mask: '***-***' },
        sessions: { oidc_logout_prompt_enabled: false },
      });
      expect(minutes).toEqual({
        ...settings,
        session_lifetime: 1.5,
        idle_session_lifetime: 0.5,
        ephemeral_session_lifetime: 2,
        device_flow: { charset: 'digits', mask: '***-***' },
        sessions: { oidc_logout_prompt_enabled: false },
      });
      expect(await m.tenants.settings.get()).toEqual(minutes);
      await expect(
        m.tenants.settings.update({ session_lifetime: 1, session_lifetime_in_minutes: 60 }),
      ).rejects.toMatchObject({
        statusCode: 400,
        body: {
          errorCode: 'invalid_body',
          message:
            'Payload validation error: session_lifetime and session_lifetime_in_minutes cannot be specified together.',
        },
      });
    });

    it('keys.signing: list, get, rotate, revoke', async () => {
      const { management: m } = s;
      const keys = await m.keys.signing.list();
      expect(keys.map((k) => [k.current === true, k.next === true])).toEqual([
        [true, false],
        [false, true],
      ]);
      const current = keys[0];
      expect(current).toEqual({
        kid: expect.any(String),
        cert: expect.stringContaining('BEGIN CERTIFICATE'),
        fingerprint: expect.any(String),
        thumbprint: expect.any(String),
        current: true,
        current_since: expect.any(String),
      });
      expect(await m.keys.signing.get(current?.kid ?? '')).toEqual(current);
      const rotated = await m.keys.signing.rotate();
      expect(rotated).toEqual({ kid: keys[1]?.kid, cert: keys[1]?.cert });
      const revoked = await m.keys.signing.revoke(current?.kid ?? '');
      expect(revoked).toEqual({ kid: current?.kid, cert: current?.cert });
      // The SDK's cached token was signed with the revoked key: a new client fetches a new one.
      await expect(m.keys.signing.get(current?.kid ?? '')).rejects.toMatchObject({ statusCode: 401 });
      const fresh = s.newManagementClient();
      expect(await fresh.keys.signing.get(current?.kid ?? '')).toEqual({
        ...current,
        current: undefined,
        previous: true,
        current_until: expect.any(String),
        revoked: true,
        revoked_at: expect.any(String),
      });
    });
  },
);

function byId(a: { id?: string | undefined }, b: { id?: string | undefined }): number {
  return (a.id ?? '') < (b.id ?? '') ? -1 : 1;
}
