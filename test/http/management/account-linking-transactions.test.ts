import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../../src/domain/user.js';
import { userHandleOf } from '../../../src/myaccount/service.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { api } from '../../helpers/http.js';

const path = (id: string) => `/api/v2/users/${encodeURIComponent(id)}`;
const byId = (u: User) => ({ provider: 'auth0', user_id: u.userId.slice(6) });

describe.each(testBackends())('account linking is one transaction on $name', (backend) => {
  let t: TestApp;
  let make: Factories;
  let admin: string;
  let n = 0;
  beforeAll(async () => {
    t = await buildTestApp(backend, {}, { warn: () => undefined });
    make = createFactories(t.deps);
    admin = await t.managementToken();
  });
  afterAll(async () => {
    await t.close();
  });

  const person = (tag: string) =>
    make.user({
      email: `${tag}.${n++}@example.com`,
      userMetadata: { from: tag },
      appMetadata: { plan: tag },
    });
  const link = (primary: string, body: unknown) =>
    api(t.app, { method: 'POST', url: `${path(primary)}/identities`, token: admin, body });
  const unlink = (primary: string, secondary: string) =>
    api(t.app, {
      method: 'DELETE',
      url: `${path(primary)}/identities/auth0/${encodeURIComponent(secondary.slice(6))}`,
      token: admin,
    });
  const get = (id: string) => api(t.app, { method: 'GET', url: path(id), token: admin });
  const passkeyOf = async (user: User) => {
    const at = new Date(t.clock.now()).toISOString();
    await t.deps.store.passkeys.insert({
      id: `passkey|dev_${String(n++)}`,
      userId: user.userId,
      credentialId: `cred-${String(n++)}`,
      publicKey: 'pk',
      counter: 0,
      transports: [],
      deviceType: 'multiDevice',
      backedUp: true,
      aaguid: '00000000-0000-0000-0000-000000000000',
      userHandle: userHandleOf(user.userId),
      name: undefined,
      userAgent: undefined,
      createdAt: at,
      lastUsedAt: undefined,
    });
  };
  const passkeyOwners = async (...users: User[]) =>
    Promise.all(
      users.map(async (u) => (await t.deps.store.passkeys.listForUser(u.userId)).map((p) => p.userHandle)),
    );

  /** Makes every `operation` on `table` fail inside the database until removed. */
  async function failing(table: 'users' | 'passkeys', operation: 'delete' | 'update', on: boolean) {
    const db = t.deps.storage.db;
    const name = sql.raw(`fail_${table}_${operation}`);
    const target = sql.raw(`${operation} on ${table}`);
    if (backend.name === 'sqlite') {
      await (
        on
          ? sql`create trigger ${name} before ${target} begin select raise(abort, 'injected'); end`
          : sql`drop trigger ${name}`
      ).execute(db);
      return;
    }
    if (on) {
      await sql`create function ${name}() returns trigger language plpgsql as $$ begin raise exception 'injected'; end $$`.execute(
        db,
      );
      await sql`create trigger ${name} before ${target} for each row execute function ${name}()`.execute(db);
    } else {
      await sql`drop trigger ${name} on ${sql.raw(table)}`.execute(db);
      await sql`drop function ${name}()`.execute(db);
    }
  }

  it('leaves both users exactly as they were when the link fails half-way', async () => {
    const primary = await person('p');
    const secondary = await person('s');
    await passkeyOf(secondary);
    const before = [(await get(primary.userId)).json(), (await get(secondary.userId)).json()];

    // The last step, removing the secondary's row, fails: the identity and passkey moves before it must not stay.
    await failing('users', 'delete', true);
    try {
      const res = await link(primary.userId, byId(secondary));
      expect(res.statusCode).toBe(500);
    } finally {
      await failing('users', 'delete', false);
    }
    expect([(await get(primary.userId)).json(), (await get(secondary.userId)).json()]).toEqual(before);
    expect(await passkeyOwners(primary, secondary)).toEqual([[], [userHandleOf(secondary.userId)]]);

    // And the same link goes through once nothing fails.
    expect((await link(primary.userId, byId(secondary))).statusCode).toBe(201);
    expect(await passkeyOwners(primary, secondary)).toEqual([[userHandleOf(secondary.userId)], []]);
  });

  it('leaves the link in place when the unlink fails half-way', async () => {
    const primary = await person('p');
    const secondary = await person('s');
    await passkeyOf(secondary);
    expect((await link(primary.userId, byId(secondary))).statusCode).toBe(201);
    const before = (await get(primary.userId)).json();

    // The last step, giving the account its passkeys back, fails.
    await failing('passkeys', 'update', true);
    try {
      expect((await unlink(primary.userId, secondary.userId)).statusCode).toBe(500);
    } finally {
      await failing('passkeys', 'update', false);
    }
    expect((await get(primary.userId)).json()).toEqual(before);
    expect((await get(secondary.userId)).statusCode).toBe(404);
    expect(await passkeyOwners(primary)).toEqual([[userHandleOf(secondary.userId)]]);

    expect((await unlink(primary.userId, secondary.userId)).statusCode).toBe(200);
    expect(await passkeyOwners(primary, secondary)).toEqual([[], [userHandleOf(secondary.userId)]]);
  });

  it('links a secondary to exactly one of two primaries that ask at once', async () => {
    for (let round = 0; round < 5; round++) {
      const [a, b, secondary] = await Promise.all([person('a'), person('b'), person('s')]);
      const answers = await Promise.all([link(a.userId, byId(secondary)), link(b.userId, byId(secondary))]);
      expect(answers.map((r) => r.statusCode).sort()).toEqual([201, 409]);
      const holders = await Promise.all(
        [a, b].map(async (p) =>
          (await get(p.userId))
            .json<{ identities: { user_id: string }[] }>()
            .identities.some((i) => i.user_id === secondary.userId.slice(6)),
        ),
      );
      expect(holders.filter(Boolean)).toHaveLength(1);
      expect(holders).toEqual(answers.map((r) => r.statusCode === 201));
      expect((await get(secondary.userId)).statusCode).toBe(404);
    }
  });

  it('lets only one of two crossing links (A takes B, B takes A) through, without a deadlock', async () => {
    for (let round = 0; round < 3; round++) {
      const [a, b] = await Promise.all([person('a'), person('b')]);
      const answers = await Promise.all([link(a.userId, byId(b)), link(b.userId, byId(a))]);
      const codes = answers.map((r) => r.statusCode);
      expect(codes.filter((c) => c === 201)).toHaveLength(1);
      expect(codes.filter((c) => c === 404 || c === 409)).toHaveLength(1);
      const survivors = (await Promise.all([get(a.userId), get(b.userId)])).filter(
        (r) => r.statusCode === 200,
      );
      expect(survivors).toHaveLength(1);
      expect(survivors[0]?.json<{ identities: unknown[] }>().identities).toHaveLength(2);
    }
  });
});
