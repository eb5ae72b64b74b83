import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import type { User } from '../../../src/domain/user.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { api } from '../../helpers/http.js';
import { authorize, CookieJar, loginThroughPage } from '../../helpers/authorize.js';

const CALLBACK = 'https://app.example.com/callback';
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

interface Item {
  id: string;
  user_id: string;
}

describe.each(testBackends())('/api/v2 session endpoints on $name', (backend) => {
  let t: TestApp;
  let make: Factories;
  let web: Client;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    make = createFactories(t.deps);
    web = await make.client({
      name: 'Web App',
      appType: 'regular_web',
      grantTypes: ['authorization_code'],
      settings: { callbacks: [CALLBACK] },
    });
    await make.enableConnection(web.clientId);
  });
  afterAll(async () => {
    await t.close();
  });

  const params = (extra: Record<string, string> = {}) => ({
    client_id: web.clientId,
    redirect_uri: CALLBACK,
    response_type: 'code',
    scope: 'openid',
    state: 's',
    ...extra,
  });
  /** A browser signs in on the login page: one SSO session. */
  const signIn = async (user: User, jar = new CookieJar()) => {
    const start = await authorize(t.app, params(), jar);
    const { result } = await loginThroughPage(t.app, String(start.headers['location']), jar, {
      username: user.email ?? '',
      password: 'Pass-word-123',
    });
    expect(result.statusCode).toBe(302);
    return jar;
  };
  const signedIn = async (jar: CookieJar) => {
    const res = await authorize(t.app, params({ prompt: 'none' }), jar);
    return new URL(String(res.headers['location'])).searchParams.has('code');
  };
  // A fresh token each time: tests move the clock by days.
  const scoped = () => t.managementTokenWith(['read:sessions', 'delete:sessions']);
  const get = async (url: string) => api(t.app, { method: 'GET', url, token: await scoped() });
  const del = async (url: string) => api(t.app, { method: 'DELETE', url, token: await scoped() });
  const sessionsOf = (user: User, query = '') =>
    get(`/api/v2/users/${encodeURIComponent(user.userId)}/sessions${query}`);

  it('GET /users/{id}/sessions and /sessions/{id} answer Auth0’s session object', async () => {
    const user = await make.user();
    const at = Math.floor(t.clock.now() / 1000);
    const jar = await signIn(user);
    t.clock.advance(60_000);
    expect(await signedIn(jar)).toBe(true);
    // A second application signs in through the same session (SSO): the session lists both, once each.
    const other = await make.client({
      appType: 'regular_web',
      grantTypes: ['authorization_code'],
      settings: { callbacks: [CALLBACK] },
    });
    await make.enableConnection(other.clientId);
    for (let i = 0; i < 2; i += 1) {
      const res = await authorize(t.app, params({ client_id: other.clientId, prompt: 'none' }), jar);
      expect(new URL(String(res.headers['location'])).searchParams.has('code')).toBe(true);
    }
    const res = await sessionsOf(user);
    expect(res.statusCode).toBe(200);
    const used = at + 60;
    expect(res.json()).toEqual({
      sessions: [
        {
          id: expect.stringMatching(/^ses_/),
          user_id: user.userId,
          created_at: iso(at),
          updated_at: iso(used),
          authenticated_at: iso(at),
          idle_expires_at: iso(used + 72 * 3600),
          expires_at: iso(at + 168 * 3600),
          last_interacted_at: iso(used),
          device: { initial_ip: '127.0.0.1', initial_user_agent: 'lightMyRequest' },
          clients: [{ client_id: web.clientId }, { client_id: other.clientId }],
          authentication: { methods: [{ name: 'pwd', timestamp: iso(at) }] },
          cookie: { mode: 'persistent' },
        },
      ],
    });
    const listed = res.json<{ sessions: Item[] }>().sessions[0];
    const one = await get(`/api/v2/sessions/${listed?.id ?? ''}`);
    expect(one.statusCode).toBe(200);
    expect(one.json()).toEqual(listed);
  });

  it('pages by checkpoint and lists neither ended nor expired sessions', async () => {
    const user = await make.user();
    for (let i = 0; i < 3; i += 1) await signIn(user);
    const ended = await signIn(user);
    await t.app.inject({ method: 'GET', url: '/v2/logout', headers: { cookie: ended.header() } });
    const all = (await sessionsOf(user)).json<{ sessions: Item[] }>().sessions;
    expect(all).toHaveLength(3);
    expect(all.map((s) => s.id)).toEqual(all.map((s) => s.id).sort());
    const page1 = await sessionsOf(user, '?take=2');
    expect(page1.json()).toEqual({ sessions: all.slice(0, 2), next: expect.any(String) });
    const next = page1.json<{ next: string }>().next;
    expect((await sessionsOf(user, `?take=2&from=${encodeURIComponent(next)}`)).json()).toEqual({
      sessions: all.slice(2),
    });
    t.clock.advance(72 * 3_600_000 + 1000);
    expect((await sessionsOf(user)).json()).toEqual({ sessions: [] });
    expect((await get(`/api/v2/sessions/${all[0]?.id ?? ''}`)).statusCode).toBe(404);
  });

  it('DELETE /sessions/{id} ends that session only: its browser sees the login page again', async () => {
    const user = await make.user();
    const a = await signIn(user);
    const b = await signIn(user);
    const [first, second] = (await sessionsOf(user)).json<{ sessions: Item[] }>().sessions;
    const res = await del(`/api/v2/sessions/${first?.id ?? ''}`);
    expect(res.statusCode).toBe(202);
    expect(res.body).toBe('');
    expect((await get(`/api/v2/sessions/${first?.id ?? ''}`)).statusCode).toBe(404);
    expect((await sessionsOf(user)).json<{ sessions: Item[] }>().sessions.map((s) => s.id)).toEqual([
      second?.id,
    ]);
    const states = [await signedIn(a), await signedIn(b)];
    expect(states.filter(Boolean)).toHaveLength(1);
    const page = await authorize(t.app, params(), states[0] ? b : a);
    expect(String(page.headers['location'])).toMatch(/^\/u\/login\?state=/);
    // Nothing left to end is not an error.
    expect((await del('/api/v2/sessions/ses_gone')).statusCode).toBe(202);
  });

  it('DELETE /users/{id}/sessions ends them all, and not another user’s', async () => {
    const user = await make.user();
    const someone = await make.user();
    const jars = [await signIn(user), await signIn(user)];
    const theirs = await signIn(someone);
    expect((await del(`/api/v2/users/${encodeURIComponent(user.userId)}/sessions`)).statusCode).toBe(202);
    expect((await sessionsOf(user)).json()).toEqual({ sessions: [] });
    for (const jar of jars) expect(await signedIn(jar)).toBe(false);
    expect(await signedIn(theirs)).toBe(true);
  });

  it('a new password or a block ends the user’s sessions', async () => {
    const full = await t.managementToken();
    for (const change of [{ password: 'An0ther-Pass-word!' }, { blocked: true }]) {
      const user = await make.user();
      const jar = await signIn(user);
      const res = await api(t.app, {
        method: 'PATCH',
        url: `/api/v2/users/${encodeURIComponent(user.userId)}`,
        token: full,
        body: change,
      });
      expect(res.statusCode).toBe(200);
      expect((await sessionsOf(user)).json()).toEqual({ sessions: [] });
      expect(await signedIn(jar)).toBe(false);
    }
  });

  it('deleting the user removes their sessions', async () => {
    const user = await make.user();
    const jar = await signIn(user);
    const [session] = (await sessionsOf(user)).json<{ sessions: Item[] }>().sessions;
    const res = await api(t.app, {
      method: 'DELETE',
      url: `/api/v2/users/${encodeURIComponent(user.userId)}`,
      token: await t.managementToken(),
    });
    expect(res.statusCode).toBe(204);
    expect(await t.deps.store.sessions.findById(session?.id ?? '')).toBeUndefined();
    expect(await signedIn(jar)).toBe(false);
  });

  it('answers 404 for an unknown user or session, 400 for a forged checkpoint', async () => {
    const missingUser = await get('/api/v2/users/auth0%7Cnobody/sessions');
    expect(missingUser.statusCode).toBe(404);
    expect(missingUser.json()).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'The user does not exist.',
      errorCode: 'inexistent_user',
    });
    expect((await del('/api/v2/users/auth0%7Cnobody/sessions')).statusCode).toBe(404);
    const missing = await get('/api/v2/sessions/ses_nope');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'The session does not exist.',
      errorCode: 'inexistent_session',
    });
    const user = await make.user();
    expect((await sessionsOf(user, '?from=not-a-checkpoint')).statusCode).toBe(400);
    expect((await sessionsOf(user, '?page=1')).statusCode).toBe(400);
  });

  it('needs read:sessions / delete:sessions, which the tenant’s Management API defines', async () => {
    const user = await make.user();
    const other = await t.managementTokenWith(['read:users']);
    const res = await api(t.app, {
      method: 'GET',
      url: `/api/v2/users/${encodeURIComponent(user.userId)}/sessions`,
      token: other,
    });
    expect(res.statusCode).toBe(403);
    const rs = await api(t.app, {
      method: 'GET',
      url: `/api/v2/resource-servers/${encodeURIComponent(`${TEST_ISSUER}api/v2/`)}`,
      token: await t.managementToken(),
    });
    const values = rs.json<{ scopes: { value: string }[] }>().scopes.map((s) => s.value);
    expect(values).toEqual(expect.arrayContaining(['read:sessions', 'delete:sessions']));
  });
});
