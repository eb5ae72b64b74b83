import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { precompiled, type CompiledQueries } from '../../src/storage/precompiled.js';
import { testBackends } from '../helpers/backends.js';
import { openTestStore, type TestStore } from '../helpers/store.js';

describe.each(testBackends())('a precompiled query on $name', (backend) => {
  let opened: TestStore;
  beforeAll(async () => {
    opened = await openTestStore(backend);
    const { db } = opened.storage;
    await db
      .insertInto('one_time_values')
      .values([
        { tenant_id: 'default', key: 'a', value: 'first', expires_at: 100 },
        { tenant_id: 'default', key: 'b', value: 'second', expires_at: 200 },
        { tenant_id: 'other', key: 'a', value: 'elsewhere', expires_at: 300 },
      ])
      .execute();
  });
  afterAll(() => opened.close());

  it("runs with each call's values, the values fixed at build time kept, as the builder would", async () => {
    const { db } = opened.storage;
    const calls: string[] = [];
    const query = precompiled(db, 2, (key: string, after: number) => {
      calls.push(key);
      return db
        .selectFrom('one_time_values')
        .select(['key', 'value'])
        .where('tenant_id', '=', 'default')
        .where('key', '=', key)
        .where('expires_at', '>', after);
    });
    const cases: [string, number, string[]][] = [
      ['a', 50, ['first']],
      ['a', 100, []],
      ['b', 150, ['second']],
      ['c', 0, []],
    ];
    for (const [key, after, values] of cases) {
      const rows = (await query(key, after)).rows;
      expect(rows.map((r) => r.value)).toEqual(values);
      const built = await db
        .selectFrom('one_time_values')
        .select('value')
        .where('tenant_id', '=', 'default')
        .where('key', '=', key)
        .where('expires_at', '>', after)
        .execute();
      expect(rows.map((r) => r.value)).toEqual(built.map((r) => r.value));
    }
    expect(calls).toHaveLength(1);
  });

  it('counts the rows a write changed, and gives back what a write returns', async () => {
    const { db } = opened.storage;
    const bump = precompiled(db, 2, (key: string, expiresAt: number) =>
      db
        .updateTable('one_time_values')
        .set({ expires_at: expiresAt })
        .where('tenant_id', '=', 'default')
        .where('key', '=', key),
    );
    expect((await bump('b', 250)).numAffectedRows).toBe(1n);
    expect((await bump('missing', 250)).numAffectedRows).toBe(0n);
    const take = precompiled(db, 1, (key: string) =>
      db
        .deleteFrom('one_time_values')
        .where('tenant_id', '=', 'default')
        .where('key', '=', key)
        .returning(['value', 'expires_at']),
    );
    expect((await take('b')).rows).toEqual([{ value: 'second', expires_at: 250 }]);
    expect((await take('b')).rows).toEqual([]);
  });

  it('refuses, on its first call, a build that leaves an argument out or puts one in the SQL text', async () => {
    const { db } = opened.storage;
    const unused = precompiled(db, 2, (key: string, _after: number) =>
      db.selectFrom('one_time_values').select('value').where('key', '=', key),
    );
    await expect(async () => unused('a', 1)).rejects.toThrow(/bound parameter/);
    const inText = precompiled(db, 1, (key: string) =>
      db.selectFrom('one_time_values').select('value').where(sql.ref(key), '=', 'a'),
    );
    await expect(async () => inText('key')).rejects.toThrow(/bound parameter/);
  });

  it("compiles a shared query once for the store and each transaction's repositories, and runs it on theirs", async () => {
    const { db } = opened.storage;
    const cache: CompiledQueries = new Map();
    let builds = 0;
    const insertOn = (on: typeof db) =>
      precompiled(
        on,
        2,
        (key: string, value: string) => {
          builds += 1;
          return on.insertInto('one_time_values').values({ tenant_id: 'shared', key, value, expires_at: 1 });
        },
        { cache, key: 'test.insert' },
      );
    const count = async () =>
      (await db.selectFrom('one_time_values').select('key').where('tenant_id', '=', 'shared').execute())
        .length;
    await insertOn(db)('outside', 'x');
    // Written in a transaction that rolls back: the shared query ran on the transaction, so nothing stays.
    await expect(
      db.transaction().execute(async (trx) => {
        await insertOn(trx)('inside', 'y');
        expect(
          await trx.selectFrom('one_time_values').select('key').where('key', '=', 'inside').execute(),
        ).toHaveLength(1);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    await db.transaction().execute(async (trx) => {
      await insertOn(trx)('committed', 'z');
    });
    expect(builds).toBe(1);
    expect(await count()).toBe(2);
  });
});
