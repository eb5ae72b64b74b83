import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueryTimeout } from '../../src/storage/search-deadline.js';
import { createWorkerSearchReads, type SearchReads } from '../../src/storage/search-reads.js';

// A statement that never reaches the deadline check: only replacing the worker stops it.
const RUNS_LONG = CompiledQuery.raw(
  'with recursive n(i) as (select 1 union all select i + 1 from n where i < 20000000) select count(*) as c from n',
);
const QUICK = CompiledQuery.raw('select count(*) as c from t', []);

describe('search reads on a SQLite file (worker thread)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-reads-'));
  const path = join(dir, 'db.sqlite');
  let reads: SearchReads;
  beforeAll(() => {
    const db = new BetterSqlite3(path);
    db.pragma('journal_mode = WAL');
    db.exec('create table t (x integer); insert into t values (1), (2), (3);');
    db.close();
    reads = createWorkerSearchReads({ path, graceMs: 0 });
  });
  afterAll(async () => {
    await reads.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('returns the rows of a read', async () => {
    expect(await reads.all(QUICK, Date.now() + 60_000)).toEqual([{ c: 3 }]);
  });

  it('replaces a worker that does not answer by the deadline, failing its reads with QueryTimeout', async () => {
    const stuck = reads.all(RUNS_LONG, Date.now() + 20);
    const queued = reads.all(QUICK, Date.now() + 60_000);
    await expect(stuck).rejects.toBeInstanceOf(QueryTimeout);
    await expect(queued).rejects.toBeInstanceOf(QueryTimeout);
    expect(await reads.all(QUICK, Date.now() + 60_000)).toEqual([{ c: 3 }]);
  });

  it('refuses a write: the worker connection is read-only', async () => {
    await expect(
      reads.all(CompiledQuery.raw('insert into t values (4) returning x'), Date.now() + 60_000),
    ).rejects.toThrow('attempt to write a readonly database');
  });
});
