import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aloneOnTheDatabase } from '../../../src/storage/migrate.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { api } from '../../helpers/http.js';

describe.each(testBackends())('Management API 500 on $name', (backend) => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    token = await t.managementToken();
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers a failing query with a 500 that carries errorCode and no detail', async () => {
    const { db } = t.deps.storage;
    // A table the route reads has gone: the driver's error reaches the error renderer as it would in production.
    // Renamed under the migrations' lock, so another test file's migration never sees the table half-gone.
    await aloneOnTheDatabase(t.deps.storage, async () => {
      await sql`alter table roles rename to roles_gone`.execute(db);
      try {
        const res = await api(t.app, { method: 'GET', url: '/api/v2/roles', token });
        expect(res.statusCode).toBe(500);
        expect(res.json()).toEqual({
          statusCode: 500,
          error: 'Internal Server Error',
          message: 'Internal Server Error',
          errorCode: 'internal_server_error',
        });
      } finally {
        await sql`alter table roles_gone rename to roles`.execute(db);
      }
    });
    expect((await api(t.app, { method: 'GET', url: '/api/v2/roles', token })).statusCode).toBe(200);
  });
});
