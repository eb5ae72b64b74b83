import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/storage/repositories/index.js';
import { parseSearchQuery } from '../../src/users/search-query.js';
import { testBackends } from '../helpers/backends.js';
import { openTestStore, type TestStore, userRow } from '../helpers/store.js';

const USERS = [
  userRow('jane', {
    email: 'Jane.Smith@Example.com',
    name: 'Jane Smith',
    givenName: 'Jane',
    loginsCount: 12,
    lastLogin: '2024-12-31T10:00:00.000Z',
    userMetadata: { plan: 'gold', address: { city: 'Paris' } },
    appMetadata: { tier: 3, beta: true },
    createdAt: '2024-03-01T00:00:00.000Z',
  }),
  userRow('john', {
    email: 'john@sample.org',
    name: 'John Smithers',
    username: 'jsmith',
    loginsCount: 150,
    lastLogin: '2025-01-01T00:00:00.000Z',
    userMetadata: { plan: 'silver' },
    blocked: true,
    createdAt: '2024-06-01T00:00:00.000Z',
  }),
  userRow('ana', {
    email: 'ana%_x@example.com',
    name: 'Ana',
    connection: 'other-db',
    appMetadata: { beta: false },
    createdAt: '2024-09-01T00:00:00.000Z',
  }),
  userRow('ghost', { createdAt: '2024-10-01T00:00:00.000Z' }),
];

describe.each(testBackends())('user search on $name', (backend) => {
  let opened: TestStore;
  let store: Store;
  beforeAll(async () => {
    opened = await openTestStore(backend);
    store = opened.store;
    for (const u of USERS) await store.users.insert(u);
  });
  afterAll(() => opened.close());

  it.each([
    ['email:"jane.smith@example.com"', ['jane']],
    ['email:JANE.SMITH@EXAMPLE.COM', ['jane']],
    ['email:jan*', ['jane']],
    ['email.domain:example.com', ['jane', 'ana']],
    ['name:smith', ['jane']],
    ['name:"john smithers"', ['john']],
    ['name:smi*', []],
    ['name:joh*', ['john']],
    ['smith', ['jane']],
    ['jsmith', ['john']],
    ['username:jsmith', ['john']],
    ['given_name:JANE', ['jane']],
    ['logins_count:[10 TO 100]', ['jane']],
    ['logins_count:{12 TO *]', ['john']],
    ['logins_count:[100 TO 999999999999999]', ['john']],
    ['last_login:[* TO 2024-12-31]', ['jane']],
    ['last_login:{2024-12-31 TO *]', ['john']],
    ['created_at:[2024-05-01 TO 2024-09-30]', ['john', 'ana']],
    ['created_at:2024-06', ['john']],
    ['created_at:2024-06-01', ['john']],
    ['created_at:"2024-06-01T00:00:00"', ['john']],
    ['created_at:2024', ['jane', 'john', 'ana', 'ghost']],
    ['user_metadata.plan:"gold"', ['jane']],
    ['user_metadata.address.city:Paris', ['jane']],
    ['app_metadata.tier:3', ['jane']],
    ['app_metadata.beta:true', ['jane']],
    ['app_metadata.beta:false', ['ana']],
    ['_exists_:user_metadata.plan', ['jane', 'john']],
    ['_exists_:email', ['jane', 'john', 'ana']],
    ['NOT _exists_:email', ['ghost']],
    ['identities.connection:"other-db"', ['ana']],
    ['blocked:true', ['john']],
    ['name:jane OR name:ana', ['jane', 'ana']],
    ['(name:jane OR name:john) AND NOT blocked:true', ['jane']],
    ['email:"ana%_x@example.com"', ['ana']],
    ['email:ana%*', ['ana']],
    ['email:jan%*', []],
    ['user_id:"auth0|john"', ['john']],
    ['identities.user_id:ghost', ['ghost']],
  ])('%s finds %j', async (q, expected) => {
    const found = await store.users.list({ search: parseSearchQuery(q) }, { offset: 0, limit: 50 });
    expect(found.map((u) => u.userId.slice('auth0|'.length))).toEqual(expected);
    expect(await store.users.count({ search: parseSearchQuery(q) })).toBe(expected.length);
  });

  it.each([
    ['user_metadata.plan:gol*', 'wildcards are not available on metadata'],
    ['user_metadata.n:[1 TO 2]', 'ranges are not available on metadata'],
    ['favourite_colour:blue', 'unknown field favourite_colour'],
    ['logins_count:many', 'logins_count needs an integer'],
    ['blocked:maybe', 'blocked is true or false'],
    ['created_at:2020-13', 'bad date 2020-13'],
    ['created_at:2020-02-30', 'bad date 2020-02-30'],
    ['last_login:yesterday', 'bad date yesterday'],
  ])('refuses %s', async (q, why) => {
    await expect(store.users.list({ search: parseSearchQuery(q) }, { offset: 0, limit: 5 })).rejects.toThrow(
      why,
    );
  });

  it('sorts by a field in either direction', async () => {
    const asc = await store.users.list(
      { search: undefined, sort: { field: 'logins_count', direction: 'desc' } },
      { offset: 0, limit: 2 },
    );
    expect(asc.map((u) => u.userId)).toEqual(['auth0|john', 'auth0|jane']);
  });
});
