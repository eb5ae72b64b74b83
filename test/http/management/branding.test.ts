import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories } from '../../helpers/factories.js';
import { api } from '../../helpers/http.js';
import { authorize, CookieJar } from '../../helpers/authorize.js';

const CALLBACK = 'https://app.example.com/callback';

describe.each(testBackends())('GET and PATCH /api/v2/branding on $name', (backend) => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    token = await t.managementToken();
  });
  afterAll(async () => {
    await t.close();
  });

  const get = () => api(t.app, { method: 'GET', url: '/api/v2/branding', token });
  const patch = (body: unknown) => api(t.app, { method: 'PATCH', url: '/api/v2/branding', token, body });
  const badBody = (message: string) => ({
    statusCode: 400,
    error: 'Bad Request',
    message,
    errorCode: 'invalid_body',
  });

  it('starts empty, stores what is sent, merges colours and removes settings sent as null', async () => {
    const empty = await get();
    expect(empty.statusCode).toBe(200);
    expect(empty.json()).toEqual({});

    const first = await patch({
      colors: { primary: '#0059d6', page_background: '#F5F5F5' },
      logo_url: 'https://cdn.example.com/logo.png',
      favicon_url: 'https://cdn.example.com/favicon.ico',
      font: { url: 'https://cdn.example.com/font.woff2' },
    });
    expect(first.statusCode).toBe(200);
    const everything = {
      colors: { primary: '#0059d6', page_background: '#F5F5F5' },
      logo_url: 'https://cdn.example.com/logo.png',
      favicon_url: 'https://cdn.example.com/favicon.ico',
      font: { url: 'https://cdn.example.com/font.woff2' },
    };
    expect(first.json()).toEqual(everything);
    expect((await get()).json()).toEqual(everything);

    const second = await patch({ colors: { primary: '#abc' }, favicon_url: null, font: { url: null } });
    expect(second.statusCode).toBe(200);
    expect(second.json()).toEqual({
      colors: { primary: '#abc', page_background: '#F5F5F5' },
      logo_url: 'https://cdn.example.com/logo.png',
    });
    expect((await patch({ colors: null, logo_url: null })).json()).toEqual({});
    expect((await get()).json()).toEqual({});
  });

  it('is not part of the tenant settings answer, and survives a tenant settings update', async () => {
    await patch({ colors: { primary: '#112233' } });
    const settings = await api(t.app, {
      method: 'PATCH',
      url: '/api/v2/tenants/settings',
      token,
      body: { friendly_name: 'Acme' },
    });
    expect(settings.json()).not.toHaveProperty('branding');
    expect((await get()).json()).toEqual({ colors: { primary: '#112233' } });
    await patch({ colors: null });
  });

  it.each(['red', '#12345', '#1234567', '#fff;} body{display:none', 'rgb(0,0,0)'])(
    'refuses the colour %j with 400 and changes nothing',
    async (colour) => {
      for (const field of ['primary', 'page_background']) {
        const res = await patch({ colors: { [field]: colour } });
        expect(res.statusCode).toBe(400);
        expect(res.json()).toEqual(
          badBody(
            `Payload validation error: 'must match pattern "^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"' on property colors.${field}.`,
          ),
        );
      }
      expect((await get()).json()).toEqual({});
    },
  );

  it.each([
    ['logo_url', 'http://cdn.example.com/logo.png'],
    ['logo_url', 'javascript:alert(1)'],
    ['logo_url', "https://cdn.example.com/a'b.png"],
    ['logo_url', 'https://user:pw@cdn.example.com/logo.png'],
    ['favicon_url', 'data:image/png;base64,AAAA'],
  ])('refuses %s %j with 400: it must be plain https', async (field, url) => {
    const res = await patch({ [field]: url });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(
      badBody(`Payload validation error: '${url}' is not an https URL on property ${field}.`),
    );
    expect((await get()).json()).toEqual({});
  });

  it('refuses fields Auth0 does not document', async () => {
    const res = await patch({ colours: { primary: '#000' } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(
      badBody("Payload validation error: 'Additional properties not allowed: colours'."),
    );
  });

  it('asks for read:branding to read and update:branding to write', async () => {
    const readOnly = await t.managementTokenWith(['read:branding']);
    const writeOnly = await t.managementTokenWith(['update:branding']);
    expect((await api(t.app, { method: 'GET', url: '/api/v2/branding', token: readOnly })).statusCode).toBe(
      200,
    );
    const write = await api(t.app, {
      method: 'PATCH',
      url: '/api/v2/branding',
      token: readOnly,
      body: { colors: { primary: '#000000' } },
    });
    expect(write.statusCode).toBe(403);
    expect(write.json()).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: 'Insufficient scope, expected any of: update:branding',
      errorCode: 'insufficient_scope',
    });
    const read = await api(t.app, { method: 'GET', url: '/api/v2/branding', token: writeOnly });
    expect(read.statusCode).toBe(403);
    expect(read.json()).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: 'Insufficient scope, expected any of: read:branding',
      errorCode: 'insufficient_scope',
    });
  });

  it('shows on the hosted pages at once: the colours, the logo with the tenant name, and the logo origin in img-src', async () => {
    const make = createFactories(t.deps);
    const client = await make.client({
      appType: 'regular_web',
      grantTypes: ['authorization_code'],
      settings: { callbacks: [CALLBACK] },
    });
    await make.enableConnection(client.clientId);
    await api(t.app, {
      method: 'PATCH',
      url: '/api/v2/tenants/settings',
      token,
      body: { friendly_name: 'Acme & Sons' },
    });
    const open = async () => {
      const jar = new CookieJar();
      const start = await authorize(
        t.app,
        { client_id: client.clientId, redirect_uri: CALLBACK, response_type: 'code', state: 's' },
        jar,
      );
      return t.app.inject({
        method: 'GET',
        url: String(start.headers['location']),
        headers: { cookie: jar.header() },
      });
    };
    const plain = await open();
    expect(plain.body).not.toContain('--button: #0059d6');
    expect(plain.headers['content-security-policy']).toContain("img-src 'self' data:; ");

    await patch({
      colors: { primary: '#0059d6', page_background: '#fafafa' },
      logo_url: 'https://cdn.example.com/brand/logo.svg',
    });
    const page = await open();
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('--button: #0059d6;');
    expect(page.body).toContain('--on-button: #ffffff;');
    expect(page.body).toContain('--bg: #fafafa;');
    expect(page.body).toContain('<img src="https://cdn.example.com/brand/logo.svg" alt="Acme &amp; Sons">');
    expect(page.body).toContain('<title>Welcome · Acme &amp; Sons</title>');
    expect(page.headers['content-security-policy']).toContain(
      "img-src 'self' data: https://cdn.example.com; ",
    );
    // Still no third-party script or style.
    expect(page.headers['content-security-policy']).toMatch(
      /script-src 'nonce-[^']+'; style-src 'nonce-[^']+';/,
    );

    // A light primary gets dark button text.
    await patch({ colors: { primary: '#ffd700' } });
    expect((await open()).body).toContain('--on-button: #111827;');
    await patch({ colors: null, logo_url: null });
  });
});
