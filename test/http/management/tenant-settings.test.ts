import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { api } from '../../helpers/http.js';

describe.each(testBackends())('/api/v2/tenants/settings on $name', (backend) => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    token = await t.managementToken();
  });
  afterAll(async () => {
    await t.close();
  });

  it('reads the bootstrap settings', async () => {
    const res = await api(t.app, { method: 'GET', url: '/api/v2/tenants/settings', token });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      friendly_name: 'Latchkey',
      default_directory: 'Username-Password-Authentication',
      default_audience: '',
      session_lifetime: 168,
      idle_session_lifetime: 72,
      enabled_locales: ['en'],
      flags: { enable_idtoken_api2: false },
    });
  });

  it('patches settings, merges flags one level and removes keys set to null', async () => {
    const res = await api(t.app, {
      method: 'PATCH',
      url: '/api/v2/tenants/settings',
      token,
      body: {
        friendly_name: 'Ünïcode Tenant ✓',
        flags: { a: true },
        support_email: 'help@example.com',
        allowed_logout_urls: ['https://x.example.com'],
      },
    });
    expect(res.statusCode).toBe(200);
    const second = await api(t.app, {
      method: 'PATCH',
      url: '/api/v2/tenants/settings',
      token,
      body: { flags: { b: false }, support_email: null },
    });
    expect(second.json()).toMatchObject({
      friendly_name: 'Ünïcode Tenant ✓',
      flags: { a: true, b: false },
      allowed_logout_urls: ['https://x.example.com'],
    });
    expect(second.json()).not.toHaveProperty('support_email');
    expect((await api(t.app, { method: 'GET', url: '/api/v2/tenants/settings', token })).json()).toEqual(
      second.json(),
    );
  });

  it.each([
    [
      { unknown_setting: 1 },
      "Payload validation error: 'Additional properties not allowed: unknown_setting'.",
    ],
    [
      { session_lifetime: 'long' },
      "Payload validation error: 'must be number' on property session_lifetime.",
    ],
    [
      { default_directory: 'no-such-connection' },
      'Payload validation error: connection no-such-connection does not exist.',
    ],
    [{ flags: { a: 'yes' } }, expect.stringContaining('flags')],
    [{ resource_parameter_profile: 'other' }, expect.stringContaining('resource_parameter_profile')],
    [
      { sessions: { other: true } },
      "Payload validation error: 'Additional properties not allowed: other' on property sessions.",
    ],
    [{ allowed_logout_urls: 'https://x' }, expect.stringContaining('allowed_logout_urls')],
    [
      { allowed_logout_urls: ['javascript:alert(1)'] },
      "Payload validation error: 'javascript: URLs are not allowed' on property allowed_logout_urls.",
    ],
    [
      { allowed_logout_urls: ['not a url'] },
      "Payload validation error: 'not a url' is not a valid URL on property allowed_logout_urls.",
    ],
    [
      { picture_url: 'data:image/png;base64,AAAA' },
      "Payload validation error: 'data:image/png;base64,AAAA' is not an http(s) URL on property picture_url.",
    ],
    [
      { support_url: 'help.example.com' },
      "Payload validation error: 'help.example.com' is not an http(s) URL on property support_url.",
    ],
    [{ support_email: 'not-an-email' }, expect.stringContaining('on property support_email')],
  ])('refuses %j with 400', async (body, message) => {
    const res = await api(t.app, { method: 'PATCH', url: '/api/v2/tenants/settings', token, body });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ statusCode: 400, error: 'Bad Request', message, errorCode: 'invalid_body' });
  });

  it('round-trips every supported setting', async () => {
    const body = {
      picture_url: 'https://cdn.example.com/logo.png',
      support_url: 'https://help.example.com',
      default_audience: 'https://api.example.com/',
      default_directory: 'Username-Password-Authentication',
      session_lifetime: 24.5,
      idle_session_lifetime: 12,
      enabled_locales: ['en', 'de', 'ja'],
      allow_organization_name_in_authentication_api: true,
      resource_parameter_profile: 'compatibility',
      sessions: { oidc_logout_prompt_enabled: false },
      oidc_logout: { rp_logout_end_session_endpoint_discovery: true },
    };
    const res = await api(t.app, { method: 'PATCH', url: '/api/v2/tenants/settings', token, body });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject(body);
    const got = await api(t.app, { method: 'GET', url: '/api/v2/tenants/settings', token });
    expect(got.json()).toEqual(res.json());
    const cleared = await api(t.app, {
      method: 'PATCH',
      url: '/api/v2/tenants/settings',
      token,
      body: { default_audience: null },
    });
    expect(cleared.json()).not.toHaveProperty('default_audience');
  });

  it('takes session lifetimes in minutes or hours, stores minutes and answers hours as Auth0 does', async () => {
    const patch = (body: object) =>
      api(t.app, { method: 'PATCH', url: '/api/v2/tenants/settings', token, body });
    const res = await patch({
      session_lifetime_in_minutes: 90,
      idle_session_lifetime_in_minutes: 20,
      ephemeral_session_lifetime: 0.5,
      idle_ephemeral_session_lifetime_in_minutes: 15,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      session_lifetime: 1.5,
      idle_session_lifetime: 20 / 60,
      ephemeral_session_lifetime: 0.5,
      idle_ephemeral_session_lifetime: 0.25,
    });
    expect(res.json()).not.toHaveProperty('session_lifetime_in_minutes');
    const stored = (await t.deps.store.tenants.find())?.settings;
    expect(stored).toMatchObject({
      session_lifetime_in_minutes: 90,
      idle_session_lifetime_in_minutes: 20,
      ephemeral_session_lifetime_in_minutes: 30,
      idle_ephemeral_session_lifetime_in_minutes: 15,
    });
    expect(stored).not.toHaveProperty('session_lifetime');
    // What GET answers can be sent back as it is (the Deploy CLI does).
    const again = await patch({
      idle_session_lifetime: res.json<{ idle_session_lifetime: number }>().idle_session_lifetime,
    });
    expect(again.json()).toEqual(res.json());
    expect((await t.deps.store.tenants.find())?.settings).toMatchObject({
      idle_session_lifetime_in_minutes: 20,
    });

    for (const [body, message] of [
      [
        { session_lifetime: 2, session_lifetime_in_minutes: 120 },
        'Payload validation error: session_lifetime and session_lifetime_in_minutes cannot be specified together.',
      ],
      [
        { idle_session_lifetime: 0.001 },
        'Payload validation error: idle_session_lifetime must be at least one minute.',
      ],
      [
        { session_lifetime_in_minutes: 1.5 },
        "Payload validation error: 'must be integer' on property session_lifetime_in_minutes.",
      ],
    ] as const) {
      const refused = await patch(body);
      expect(refused.statusCode).toBe(400);
      expect(refused.json()).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message,
        errorCode: 'invalid_body',
      });
    }
  });

  it('round-trips the other settings Auth0 documents', async () => {
    const body = {
      default_redirection_uri: 'https://app.example.com/login',
      change_password: { enabled: true, html: '<p>change</p>' },
      guardian_mfa_page: { enabled: false, html: '<p>mfa</p>' },
      error_page: { html: '', show_log_link: false, url: 'https://app.example.com/error' },
      device_flow: { charset: 'base20', mask: '****-****' },
      default_token_quota: { clients: { client_credentials: { enforce: true, per_day: 100 } } },
      sandbox_version: '22',
      legacy_sandbox_version: '18',
      security_headers: { x_xss_protection: null },
      session_cookie: { mode: 'non-persistent' },
      sessions: {
        oidc_logout_prompt_enabled: true,
        anonymous: { lifetime_in_minutes: 60, activate_cookie: false },
      },
      customize_mfa_in_postlogin_action: false,
      acr_values_supported: ['urn:mace:incommon:iap:silver'],
      mtls: { enable_endpoint_aliases: false },
      pushed_authorization_requests_supported: false,
      authorization_response_iss_parameter_supported: true,
      skip_non_verifiable_callback_uri_confirmation_prompt: false,
      client_id_metadata_document_supported: false,
      enable_ai_guide: false,
      phone_consolidated_experience: false,
      include_session_metadata_in_tenant_logs: true,
      dynamic_client_registration_security_mode: 'strict',
      country_codes: { list: ['DE', 'FR'], mode: 'allow' },
    };
    const res = await api(t.app, { method: 'PATCH', url: '/api/v2/tenants/settings', token, body });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject(body);
    expect((await api(t.app, { method: 'GET', url: '/api/v2/tenants/settings', token })).json()).toEqual(
      res.json(),
    );
  });

  it('applies fields/include_fields on GET', async () => {
    const only = await api(t.app, {
      method: 'GET',
      url: '/api/v2/tenants/settings?fields=friendly_name,flags',
      token,
    });
    expect(Object.keys(only.json<object>()).sort()).toEqual(['flags', 'friendly_name']);
    const without = await api(t.app, {
      method: 'GET',
      url: '/api/v2/tenants/settings?fields=flags&include_fields=false',
      token,
    });
    expect(without.json()).not.toHaveProperty('flags');
    expect(without.json()).toHaveProperty('friendly_name');
  });

  it('answers 400 invalid_query_string for an unknown query parameter', async () => {
    const res = await api(t.app, { method: 'GET', url: '/api/v2/tenants/settings?bogus=1', token });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: "Query validation error: 'Additional properties not allowed: bogus'.",
      errorCode: 'invalid_query_string',
    });
  });

  it('answers 401 without a token', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v2/tenants/settings' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      message: 'Missing authentication',
      errorCode: 'invalid_token',
    });
  });

  it('answers 413 for a 2 MB body', async () => {
    const res = await api(t.app, {
      method: 'PATCH',
      url: '/api/v2/tenants/settings',
      token,
      body: { friendly_name: 'x'.repeat(2 * 1024 * 1024) },
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({
      statusCode: 413,
      error: 'Payload Too Large',
      message: 'Payload too large',
      errorCode: 'payload_too_large',
    });
  });

  it('needs the tenant settings scopes', async () => {
    const narrow = await t.managementTokenWith(['read:tenant_settings']);
    expect(
      (await api(t.app, { method: 'GET', url: '/api/v2/tenants/settings', token: narrow })).statusCode,
    ).toBe(200);
    const res = await api(t.app, {
      method: 'PATCH',
      url: '/api/v2/tenants/settings',
      token: narrow,
      body: {},
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: 'Insufficient scope, expected any of: update:tenant_settings',
      errorCode: 'insufficient_scope',
    });
    const writeOnly = await t.managementTokenWith(['update:tenant_settings']);
    const read = await api(t.app, { method: 'GET', url: '/api/v2/tenants/settings', token: writeOnly });
    expect(read.statusCode).toBe(403);
    expect(read.json()).toMatchObject({
      message: 'Insufficient scope, expected any of: read:tenant_settings',
    });
  });
});
