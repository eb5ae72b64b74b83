import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import type { User } from '../../../src/domain/user.js';
import { authorize, CookieJar, loginThroughPage, unescapeHtml } from '../../helpers/authorize.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { api, form, jwtPayload } from '../../helpers/http.js';

const PASSWORD = 'Pass-word-123';
const CALLBACK = 'https://partner.example.com/callback';
const ORDERS = 'https://orders.example.com/';

interface Grant {
  id: string;
  clientID: string;
  user_id: string;
  audience: string;
  scope: string[];
}

/** The consent page's two forms: each posts `state`, `csrf` and its own `action`. */
function consentForms(html: string): { state: string; csrf: string; actions: string[] } {
  const forms = [...html.matchAll(/<form method="post" action="\/u\/consent">([\s\S]*?)<\/form>/g)].map(
    (m) => m[1] ?? '',
  );
  const field = (body: string, name: string) =>
    unescapeHtml(new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`).exec(body)?.[1] ?? '');
  return {
    state: field(forms[0] ?? '', 'state'),
    csrf: field(forms[0] ?? '', 'csrf'),
    actions: forms.map((f) => field(f, 'action')),
  };
}

/** The page's scope lines: [description, scope], in order. */
function scopeLines(html: string): [string, string][] {
  return [...html.matchAll(/<span class="text"><span>([^<]*)<\/span><code>([^<]*)<\/code><\/span>/g)].map(
    (m) => [unescapeHtml(m[1] ?? ''), unescapeHtml(m[2] ?? '')],
  );
}

describe.each(testBackends())('the consent page and stored user grants on $name', (backend) => {
  let t: TestApp;
  let make: Factories;
  let partner: Client;
  let web: Client;

  beforeAll(async () => {
    t = await buildTestApp(backend);
    make = createFactories(t.deps);
    const settings = await api(t.app, {
      method: 'PATCH',
      url: '/api/v2/tenants/settings',
      token: await t.managementTokenWith(['update:tenant_settings']),
      body: { friendly_name: 'Acme Shop' },
    });
    expect(settings.statusCode).toBe(200);
    // RBAC on: the user holds read, write and export; the partner's grant allows read, write and delete.
    await make.api({
      identifier: ORDERS,
      name: 'Orders API',
      scopes: [
        { value: 'read:orders', description: 'Read your orders' },
        { value: 'write:orders', description: 'Create and change your orders' },
        { value: 'delete:orders', description: 'Delete your orders' },
        { value: 'export:orders', description: 'Export your order history' },
      ],
      enforcePolicies: true,
      userPolicy: 'allow_all',
      allowOfflineAccess: true,
    });
    partner = await make.client({
      name: 'Partner App',
      appType: 'regular_web',
      isFirstParty: false,
      grantTypes: ['authorization_code', 'refresh_token'],
      settings: { callbacks: [CALLBACK] },
    });
    web = await make.client({
      name: 'Shop Web',
      appType: 'regular_web',
      grantTypes: ['authorization_code', 'refresh_token'],
      settings: { callbacks: [CALLBACK] },
    });
    await make.enableConnection(partner.clientId);
    await make.enableConnection(web.clientId);
    await make.grant({
      clientId: partner.clientId,
      audience: ORDERS,
      subjectType: 'user',
      scope: ['read:orders', 'write:orders', 'delete:orders'],
    });
  });
  afterAll(async () => {
    await t.close();
  });

  /** A fresh user holding read, write and export on the Orders API. */
  const newUser = async (): Promise<User> => {
    const user = await make.user({ password: PASSWORD });
    await t.deps.store.roles.addUserPermissions(
      user.userId,
      ['read:orders', 'write:orders', 'export:orders'].map((permissionName) => ({
        resourceServerIdentifier: ORDERS,
        permissionName,
      })),
    );
    return user;
  };

  const params = (c: Client, extra: Record<string, string> = {}) => ({
    client_id: c.clientId,
    redirect_uri: CALLBACK,
    response_type: 'code',
    audience: ORDERS,
    scope: 'openid profile read:orders write:orders delete:orders export:orders offline_access',
    state: 'st-9',
    ...extra,
  });

  const callbackParams = (res: LightMyRequestResponse) => {
    expect(res.statusCode).toBe(302);
    const location = new URL(String(res.headers['location']));
    expect(`${location.origin}${location.pathname}`).toBe(CALLBACK);
    return Object.fromEntries(location.searchParams);
  };

  const consentLocation = (res: LightMyRequestResponse): string => {
    expect(res.statusCode).toBe(302);
    const location = String(res.headers['location']);
    expect(location).toMatch(/^\/u\/consent\?state=[\w-]{32}$/);
    return location;
  };

  /** /authorize and the login page: returns where the browser goes next. */
  const signIn = async (jar: CookieJar, user: User, query: Record<string, string>) => {
    const start = await authorize(t.app, query, jar);
    const { result } = await loginThroughPage(t.app, String(start.headers['location']), jar, {
      username: user.email ?? '',
      password: PASSWORD,
    });
    return result;
  };

  const getPage = (jar: CookieJar, location: string) =>
    t.app.inject({ method: 'GET', url: location, headers: { cookie: jar.header() } });

  const post = async (jar: CookieJar, fields: Record<string, string>) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/u/consent',
      ...form(fields),
      headers: { ...form(fields).headers, cookie: jar.header() },
    });
    jar.take(res);
    return res;
  };

  /** Opens the consent page and presses one of its buttons. */
  const answer = async (jar: CookieJar, location: string, action: 'accept' | 'deny') => {
    const page = await getPage(jar, location);
    expect(page.statusCode).toBe(200);
    const { state, csrf } = consentForms(page.body);
    return post(jar, { state, csrf, action });
  };

  const exchange = async (c: Client, code: string) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({
        grant_type: 'authorization_code',
        client_id: c.clientId,
        client_secret: c.clientSecret,
        redirect_uri: CALLBACK,
        code,
      }),
    });
    expect(res.statusCode).toBe(200);
    return res.json<{ access_token: string; refresh_token?: string; scope: string; id_token?: string }>();
  };

  const refresh = (c: Client, token: string, scope?: string) =>
    t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({
        grant_type: 'refresh_token',
        client_id: c.clientId,
        client_secret: c.clientSecret,
        refresh_token: token,
        ...(scope !== undefined ? { scope } : {}),
      }),
    });

  const grantsOf = async (user: User): Promise<Grant[]> => {
    const res = await api(t.app, {
      method: 'GET',
      url: `/api/v2/grants?user_id=${encodeURIComponent(user.userId)}`,
      token: await t.managementTokenWith(['read:grants']),
    });
    expect(res.statusCode).toBe(200);
    return res.json<Grant[]>();
  };

  const expectErrorPage = (res: LightMyRequestResponse, status: number, text: string) => {
    expect(res.statusCode).toBe(status);
    expect(res.headers['location']).toBeUndefined();
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('role="alert"');
    expect(res.body).toContain(text);
    expect(res.body).not.toContain('<form');
  };

  it('shows a third-party app the page: its name, the tenant, each scope the policy allows with its description', async () => {
    const user = await newUser();
    const jar = new CookieJar();
    const location = consentLocation(await signIn(jar, user, params(partner)));
    const page = await getPage(jar, location);
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain(
      "form-action 'self' https://partner.example.com",
    );
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.body).toContain('<h1 id="consent-title">Authorize Partner App</h1>');
    expect(page.body).toContain('Partner App is asking for access to your Acme Shop account.');
    expect(page.body).toContain(`Signed in as ${user.email ?? ''}`);
    expect(page.body).toContain('On Orders API:');
    // Requested ∩ client grant (no export) ∩ RBAC (no delete); openid and offline_access are not asked about.
    expect(scopeLines(page.body)).toEqual([
      ['See your profile: name, nickname and picture', 'profile'],
      ['Read your orders', 'read:orders'],
      ['Create and change your orders', 'write:orders'],
    ]);
    // Two forms, one submit button each, labelled exactly.
    expect([...page.body.matchAll(/<button type="submit"[^>]*>([^<]*)<\/button>/g)].map((m) => m[1])).toEqual(
      ['Decline', 'Accept'],
    );
    const forms = consentForms(page.body);
    expect(forms.actions).toEqual(['deny', 'accept']);
    expect(forms.state).toBe(location.slice('/u/consent?state='.length));
    expect(forms.csrf).toMatch(/^[\w-]{32}$/);
    expect(await grantsOf(user)).toEqual([]);
  });

  it('Accept: the grant is stored, the code gives tokens within consent ∩ client grant ∩ RBAC, and the next /authorize skips the page', async () => {
    const user = await newUser();
    const jar = new CookieJar();
    const location = consentLocation(await signIn(jar, user, params(partner)));
    // Before any answer, silent authentication cannot consent for the user.
    expect(callbackParams(await authorize(t.app, params(partner, { prompt: 'none' }), jar))).toEqual({
      error: 'consent_required',
      error_description: 'Consent required',
      state: 'st-9',
    });

    const accepted = await answer(jar, location, 'accept');
    const back = callbackParams(accepted);
    expect(back).toEqual({ code: expect.any(String), state: 'st-9' });
    expect(String(accepted.headers['set-cookie'])).toMatch(/auth0_tx_[\w-]{16}=; Path=\/u\/consent/);
    const tokens = await exchange(partner, back['code'] ?? '');
    expect(tokens.scope).toBe('openid profile read:orders write:orders offline_access');
    expect(jwtPayload(tokens.access_token)).toMatchObject({
      aud: [ORDERS, 'https://latchkey.test/userinfo'],
      sub: user.userId,
      azp: partner.clientId,
      scope: 'openid profile read:orders write:orders offline_access',
    });
    expect(typeof tokens.refresh_token).toBe('string');

    const grants = await grantsOf(user);
    expect(grants).toEqual([
      {
        id: expect.stringMatching(/^cgr_/),
        clientID: partner.clientId,
        user_id: user.userId,
        audience: ORDERS,
        scope: ['profile', 'read:orders', 'write:orders'],
      },
    ]);

    // Consented: a second /authorize within the session answers at once, silently too.
    expect(callbackParams(await authorize(t.app, params(partner), jar))).toEqual({
      code: expect.any(String),
      state: 'st-9',
    });
    const silent = callbackParams(await authorize(t.app, params(partner, { prompt: 'none' }), jar));
    expect(silent).toEqual({ code: expect.any(String), state: 'st-9' });
    expect((await exchange(partner, silent['code'] ?? '')).scope).toBe(
      'openid profile read:orders write:orders offline_access',
    );

    // A wider request (email) asks again; accepting widens the same grant.
    const again = consentLocation(
      await authorize(t.app, params(partner, { scope: 'openid email read:orders' }), jar),
    );
    expect(scopeLines((await getPage(jar, again)).body)).toEqual([
      ['See your email address', 'email'],
      ['Read your orders', 'read:orders'],
    ]);
    expect(callbackParams(await answer(jar, again, 'accept'))).toMatchObject({ state: 'st-9' });
    expect(await grantsOf(user)).toEqual([
      { ...grants[0], scope: ['profile', 'read:orders', 'write:orders', 'email'] },
    ]);
  });

  it('deleting the grant through the Management API brings the page back and ends its refresh tokens', async () => {
    const user = await newUser();
    const jar = new CookieJar();
    const location = consentLocation(await signIn(jar, user, params(partner)));
    const back = callbackParams(await answer(jar, location, 'accept'));
    const tokens = await exchange(partner, back['code'] ?? '');
    const [grant] = await grantsOf(user);
    const deleted = await api(t.app, {
      method: 'DELETE',
      url: `/api/v2/grants/${grant?.id ?? ''}`,
      token: await t.managementTokenWith(['delete:grants']),
    });
    expect(deleted.statusCode).toBe(204);
    expect(await grantsOf(user)).toEqual([]);
    consentLocation(await authorize(t.app, params(partner), jar));
    expect(callbackParams(await authorize(t.app, params(partner, { prompt: 'none' }), jar))).toMatchObject({
      error: 'consent_required',
    });
    const refused = await refresh(partner, tokens.refresh_token ?? '');
    // Auth0 answers invalid_grant with 403.
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'Unknown or invalid refresh token.',
    });
  });

  it('the token endpoint keeps a third-party refresh within the stored consent: a narrowed grant narrows the tokens', async () => {
    const user = await newUser();
    const jar = new CookieJar();
    const location = consentLocation(await signIn(jar, user, params(partner)));
    const back = callbackParams(await answer(jar, location, 'accept'));
    const tokens = await exchange(partner, back['code'] ?? '');
    const first = await refresh(partner, tokens.refresh_token ?? '');
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ scope: 'openid profile read:orders write:orders offline_access' });

    // The user's grant now covers read:orders only (as if trimmed by an administrator, refresh tokens kept).
    const [grant] = await t.deps.store.consents.list({ userId: user.userId }, { offset: 0, limit: 10 });
    if (!grant) throw new Error('no grant');
    await t.deps.store.consents.delete(grant.id);
    await t.deps.store.consents.upsert({ ...grant, scope: ['read:orders'] });

    const narrowed = await refresh(partner, tokens.refresh_token ?? '');
    expect(narrowed.statusCode).toBe(200);
    const body = narrowed.json<{ scope: string; access_token: string }>();
    expect(body.scope).toBe('openid read:orders offline_access');
    expect(jwtPayload(body.access_token)['scope']).toBe('openid read:orders offline_access');
    // Asking for write:orders by name does not bring it back, nor does the refresh widen the grant.
    const named = await refresh(partner, tokens.refresh_token ?? '', 'read:orders write:orders');
    expect(named.statusCode).toBe(200);
    expect(named.json()).toMatchObject({ scope: 'read:orders' });
    expect((await grantsOf(user))[0]?.scope).toEqual(['read:orders']);
    // Nor can it reach past what the refresh token was issued with.
    const wider = await refresh(partner, tokens.refresh_token ?? '', 'read:orders export:orders');
    expect(wider.statusCode).toBe(403);
    expect(wider.json()).toEqual({
      error: 'invalid_scope',
      error_description: 'The requested scope exceeds the scope originally granted.',
    });
  });

  it('without an API: identity scopes are asked about and granted under the userinfo audience; openid alone asks nothing', async () => {
    const user = await newUser();
    const jar = new CookieJar();
    const identityOnly = { scope: 'openid email', audience: '' };
    const location = consentLocation(await signIn(jar, user, params(partner, identityOnly)));
    expect(scopeLines((await getPage(jar, location)).body)).toEqual([['See your email address', 'email']]);
    const back = callbackParams(await answer(jar, location, 'accept'));
    expect((await exchange(partner, back['code'] ?? '')).scope).toBe('openid email');
    expect(await grantsOf(user)).toEqual([
      {
        id: expect.stringMatching(/^cgr_/),
        clientID: partner.clientId,
        user_id: user.userId,
        audience: 'https://latchkey.test/userinfo',
        scope: ['email'],
      },
    ]);
    // Who the user is (openid) needs no consent.
    const fresh = new CookieJar();
    const other = await newUser();
    const direct = callbackParams(
      await signIn(fresh, other, params(partner, { scope: 'openid', audience: '' })),
    );
    expect(direct).toEqual({ code: expect.any(String), state: 'st-9' });
    expect(await grantsOf(other)).toEqual([]);
  });

  it('Decline: access_denied at the redirect URI in the response mode, and nothing is stored', async () => {
    const user = await newUser();
    const jar = new CookieJar();
    const location = consentLocation(await signIn(jar, user, params(partner)));
    expect(callbackParams(await answer(jar, location, 'deny'))).toEqual({
      error: 'access_denied',
      error_description: 'User did not authorize the request',
      state: 'st-9',
    });
    expect(await grantsOf(user)).toEqual([]);

    const posted = consentLocation(
      await authorize(t.app, params(partner, { response_mode: 'form_post' }), jar),
    );
    const declined = await answer(jar, posted, 'deny');
    expect(declined.statusCode).toBe(200);
    expect(declined.body).toContain(`action="${CALLBACK}"`);
    expect(declined.body).toContain('name="error" value="access_denied"');
    expect(declined.body).toContain('name="error_description" value="User did not authorize the request"');
    expect(declined.body).toContain('name="state" value="st-9"');
  });

  it('a policy refusal stays access_denied and shows no page', async () => {
    const user = await newUser();
    const stranger = await make.client({
      name: 'Stranger',
      isFirstParty: false,
      grantTypes: ['authorization_code'],
      settings: { callbacks: [CALLBACK] },
    });
    await make.enableConnection(stranger.clientId);
    expect(callbackParams(await signIn(new CookieJar(), user, params(stranger)))).toEqual({
      error: 'access_denied',
      error_description: `Client is not authorized to access "${ORDERS}".`,
      state: 'st-9',
    });
  });

  it('prompt=consent shows the page to a first-party app, which otherwise skips it', async () => {
    const user = await newUser();
    const jar = new CookieJar();
    const direct = callbackParams(await signIn(jar, user, params(web)));
    expect(direct).toEqual({ code: expect.any(String), state: 'st-9' });
    // First-party tokens are not narrowed by consent: RBAC ∩ requested (no client grant needed).
    expect((await exchange(web, direct['code'] ?? '')).scope).toBe(
      'openid profile read:orders write:orders export:orders offline_access',
    );

    const location = consentLocation(await authorize(t.app, params(web, { prompt: 'consent' }), jar));
    const page = await getPage(jar, location);
    expect(page.body).toContain('Authorize Shop Web');
    expect(scopeLines(page.body).map(([, scope]) => scope)).toEqual([
      'profile',
      'read:orders',
      'write:orders',
      'export:orders',
    ]);
    const { state, csrf } = consentForms(page.body);
    expect(callbackParams(await post(jar, { state, csrf, action: 'accept' }))).toEqual({
      code: expect.any(String),
      state: 'st-9',
    });
    // prompt=consent asks every time, even over a stored grant.
    consentLocation(await authorize(t.app, params(web, { prompt: 'consent' }), jar));
  });

  it('refuses a forged or foreign-browser post with the 403 page and keeps the transaction', async () => {
    const user = await newUser();
    const jar = new CookieJar();
    const location = consentLocation(await signIn(jar, user, params(partner)));
    const { state, csrf } = consentForms((await getPage(jar, location)).body);
    const txCookie =
      jar
        .header()
        .match(/auth0_tx_[\w-]{16}=[\w-]+/g)
        ?.at(-1) ?? '';
    expect(txCookie).not.toBe('');

    expectErrorPage(
      await post(jar, { state, csrf: 'x'.repeat(32), action: 'accept' }),
      403,
      'This form could not be verified.',
    );
    const foreign = new CookieJar();
    foreign.take({ headers: { 'set-cookie': `auth0=${jar.get('auth0') ?? ''}` } } as LightMyRequestResponse);
    expectErrorPage(
      await post(foreign, { state, csrf, action: 'accept' }),
      403,
      'This form could not be verified.',
    );
    // The page itself names the user: another browser cannot open it either.
    expectErrorPage(await getPage(foreign, location), 403, 'This form could not be verified.');
    expect(await grantsOf(user)).toEqual([]);

    // An action that is neither button: the page again, with the error in place.
    const odd = await post(jar, { state, csrf, action: 'maybe' });
    expect(odd.statusCode).toBe(400);
    expect(odd.body).toContain('<div class="alert" role="alert">Choose Accept or Decline.</div>');

    // The genuine form still works after all of these.
    expect(callbackParams(await post(jar, { state, csrf, action: 'accept' }))).toMatchObject({
      code: expect.any(String),
    });
  });

  it('a replayed, unknown or login-page state gets the error page', async () => {
    const user = await newUser();
    const jar = new CookieJar();
    const location = consentLocation(await signIn(jar, user, params(partner)));
    const { state, csrf } = consentForms((await getPage(jar, location)).body);
    callbackParams(await post(jar, { state, csrf, action: 'deny' }));
    const text = 'Your sign-in took too long or was already completed.';
    expectErrorPage(await post(jar, { state, csrf, action: 'accept' }), 400, text);
    expectErrorPage(await getPage(jar, location), 400, text);
    expectErrorPage(await getPage(jar, '/u/consent?state=unknown'), 400, text);
    expectErrorPage(await getPage(jar, '/u/consent'), 400, text);
    expectErrorPage(await post(jar, { csrf, action: 'accept' }), 400, text);

    // A login transaction is not a consent one (and stays usable on the login page).
    const login = String(
      (await authorize(t.app, params(partner, { prompt: 'login' }), jar)).headers['location'],
    );
    const loginState = login.slice('/u/login?state='.length);
    expectErrorPage(await getPage(jar, `/u/consent?state=${loginState}`), 400, text);
    expect((await getPage(jar, login)).statusCode).toBe(200);
    expect(await grantsOf(user)).toEqual([]);
  });
});
