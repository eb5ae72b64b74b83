import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { api } from '../../helpers/http.js';

// In name order ignoring ASCII case, compared byte by byte: the order both engines answer with.
const NAMES = [
  '100%',
  'Admin',
  'admin_tools',
  'back\\slash',
  'BACKxSLASH',
  'Read%All',
  'read_only',
  'readXonly',
  'Écrivain',
  'écrivain',
];

describe.each(testBackends())('GET /api/v2/roles name_filter on $name', (backend) => {
  let t: TestApp;
  let token: string;
  const ids = new Map<string, string>();
  beforeAll(async () => {
    t = await buildTestApp(backend);
    token = await t.managementToken();
    for (const name of [...NAMES].reverse()) {
      const res = await api(t.app, { method: 'POST', url: '/api/v2/roles', token, body: { name } });
      ids.set(name, res.json<{ id: string }>().id);
    }
  });
  afterAll(async () => {
    await t.close();
  });

  const role = (name: string) => ({ id: ids.get(name), name, description: '' });
  const list = async (query: string) => {
    const res = await api(t.app, { method: 'GET', url: `/api/v2/roles?${query}`, token });
    expect(res.statusCode).toBe(200);
    return res.json<unknown>();
  };
  const filtered = (filter: string) => list(`name_filter=${encodeURIComponent(filter)}`);

  it('lists every role by name ignoring ASCII case, the same on both engines', async () => {
    expect(await list('per_page=100')).toEqual(NAMES.map(role));
  });

  // Auth0 documents name_filter as case-insensitive; LIKE metacharacters match only themselves.
  it.each([
    ['read_only', ['read_only']],
    ['READ_ONLY', ['read_only']],
    ['_', ['admin_tools', 'read_only']],
    ['%', ['100%', 'Read%All']],
    ['d%a', ['Read%All']],
    ['\\', ['back\\slash']],
    ['K\\S', ['back\\slash']],
    ['bAcKxS', ['BACKxSLASH']],
    ['admin', ['Admin', 'admin_tools']],
    ['x', ['BACKxSLASH', 'readXonly']],
    ['zzz', []],
  ])('name_filter=%s finds %j', async (filter, names) => {
    expect(await filtered(filter)).toEqual(names.map(role));
  });

  it('folds ASCII letters only, so both engines agree on other scripts', async () => {
    expect(await filtered('écri')).toEqual([role('écrivain')]);
    expect(await filtered('Écri')).toEqual([role('Écrivain')]);
    expect(await filtered('CRIVAIN')).toEqual([role('Écrivain'), role('écrivain')]);
  });

  it('pages the filtered roles and counts only them', async () => {
    expect(await list('name_filter=READ&per_page=2&page=1&include_totals=true')).toEqual({
      start: 2,
      limit: 2,
      total: 3,
      roles: [role('readXonly')],
    });
  });

  it('answers type=tenant with every role and organization roles with none (Latchkey has no organizations)', async () => {
    expect(await list('type=tenant&name_filter=admin')).toEqual([role('Admin'), role('admin_tools')]);
    expect(await list('type=organization&owner_id=org_1&include_totals=true')).toEqual({
      start: 0,
      limit: 50,
      total: 0,
      roles: [],
    });
    const missingOwner = await api(t.app, { method: 'GET', url: '/api/v2/roles?type=organization', token });
    expect(missingOwner.statusCode).toBe(400);
    expect(missingOwner.json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'Query validation error: owner_id is required when type is organization.',
      errorCode: 'invalid_query_string',
    });
    const orgRole = await api(t.app, {
      method: 'POST',
      url: '/api/v2/roles',
      token,
      body: { name: 'org admin', type: 'organization', owner_id: 'org_1' },
    });
    expect(orgRole.statusCode).toBe(400);
    expect(orgRole.json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'Latchkey has no organizations: roles can only be tenant roles.',
      errorCode: 'operation_not_supported',
    });
  });
});
