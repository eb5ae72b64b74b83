import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { BOOTSTRAP_CLIENT_ID, buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories } from '../../helpers/factories.js';
import { api } from '../../helpers/http.js';

// Auth0 docs, GET /api/v2/clients: offset or checkpoint paging, and the filters is_global, is_first_party,
// app_type (comma-separated), external_client_id and q. Filters and pages run in SQL.
describe.each(testBackends())('GET /api/v2/clients filters and paging on $name', (backend) => {
  let t: TestApp;
  let token: string;
  const ids = new Map<string, string>();
  beforeAll(async () => {
    t = await buildTestApp(backend);
    token = await t.managementToken();
    const make = createFactories(t.deps);
    const specs = [
      { name: 'web', appType: 'regular_web', isFirstParty: true },
      { name: 'spa', appType: 'spa', isFirstParty: false },
      { name: 'native', appType: 'native', isFirstParty: true },
      { name: 'm2m', appType: 'non_interactive', isFirstParty: false },
    ];
    for (const spec of specs) {
      t.clock.advance(1000);
      ids.set(spec.name, (await make.client(spec)).clientId);
    }
    const api0 = await make.api();
    await make.grant({
      clientId: ids.get('m2m') ?? '',
      audience: api0.identifier,
      allowAnyOrganization: true,
    });
    await make.grant({
      clientId: ids.get('web') ?? '',
      audience: api0.identifier,
      allowAnyOrganization: false,
    });
  });
  afterAll(async () => {
    await t.close();
  });

  const names = async (query: string) => {
    const res = await api(t.app, { method: 'GET', url: `/api/v2/clients?fields=name&${query}`, token });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<unknown>();
  };
  const bootstrapName = 'Latchkey Bootstrap (Management API)';
  const all = [bootstrapName, 'web', 'spa', 'native', 'm2m'];
  const named = (...list: string[]) => list.map((name) => ({ name }));

  it('lists every client oldest first, paged with the real total', async () => {
    expect(await names('')).toEqual(named(...all));
    expect(await names('page=1&per_page=2&include_totals=true')).toEqual({
      start: 2,
      limit: 2,
      total: 5,
      clients: named('spa', 'native'),
    });
    expect(await names('page=3&per_page=2&include_totals=true')).toEqual({
      start: 6,
      limit: 2,
      total: 5,
      clients: [],
    });
  });

  it.each([
    ['is_global=false', all],
    ['is_global=true', []],
    ['is_first_party=false', ['spa', 'm2m']],
    ['is_first_party=true', [bootstrapName, 'web', 'native']],
    ['app_type=spa,native', ['spa', 'native']],
    ['app_type=spa,%20non_interactive', [bootstrapName, 'spa', 'm2m']],
    ['app_type=non_interactive&is_first_party=true', [bootstrapName]],
    ['app_type=rms', []],
    ['external_client_id=https%3A%2F%2Fapp.example.com%2Fcimd.json', []],
  ])('?%s', async (query, expected) => {
    expect(await names(query)).toEqual(named(...expected));
  });

  it('counts only the matching clients', async () => {
    expect(await names('is_first_party=false&include_totals=true&per_page=1')).toEqual({
      start: 0,
      limit: 1,
      total: 2,
      clients: named('spa'),
    });
  });

  it('pages by checkpoint in client_id order; page, per_page and include_totals are then ignored', async () => {
    const inIdOrder = [...ids.entries(), [bootstrapName, BOOTSTRAP_CLIENT_ID] as const]
      .sort((a, b) => (a[1] < b[1] ? -1 : 1))
      .map(([name]) => name);
    const first = await names('take=3&include_totals=true&page=4&per_page=1');
    expect(first).toEqual({ clients: named(...inIdOrder.slice(0, 3)), next: expect.any(String) });
    const rest = await names(`take=3&from=${(first as { next: string }).next}`);
    expect(rest).toEqual({ clients: named(...inIdOrder.slice(3)) });
    expect(await names('take=10&is_first_party=false')).toEqual({
      clients: named(...inIdOrder.filter((n) => n === 'spa' || n === 'm2m')),
    });
  });

  it('answers the two q terms Auth0 permits, with checkpoint paging', async () => {
    expect(await names('take=5&q=client_grant.allow_any_organization:true')).toEqual({
      clients: named('m2m'),
    });
    // Latchkey has no organizations, so no client holds a grant for one.
    expect(await names('take=5&q=client_grant.organization_id:org_123')).toEqual({ clients: [] });
  });

  it.each([
    ['q=client_grant.allow_any_organization:true', 'Query validation error: q requires from/take paging.'],
    [
      'take=5&is_first_party=true&q=client_grant.allow_any_organization:true',
      'Query validation error: q cannot be combined with other filters.',
    ],
    [
      'take=5&q=name:web',
      'Query validation error: q may only be client_grant.organization_id:{id} or client_grant.allow_any_organization:true.',
    ],
    ['is_global=maybe', "Query validation error: 'must be boolean' on property is_global."],
  ])('answers 400 invalid_query_string for ?%s', async (query, message) => {
    const res = await api(t.app, { method: 'GET', url: `/api/v2/clients?${query}`, token });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message,
      errorCode: 'invalid_query_string',
    });
  });
});
