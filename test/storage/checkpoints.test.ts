import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { FALLBACK_AUTOCHECKPOINT_PAGES } from '../../src/storage/checkpointer.js';
import { createStorage } from '../../src/storage/db.js';

const PAGE = 4096;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// WAL checkpoints run on a worker thread, not inside a request's commit (src/storage/checkpointer.ts).
describe('WAL checkpoints of the SQLite file', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('keep the WAL small while the main connection only checkpoints as a fallback', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-wal-'));
    dirs.push(dir);
    const path = join(dir, 'db.sqlite');
    const storage = await createStorage(`sqlite:${path}`);
    try {
      const { db } = storage;
      const [fallback] = (await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(db))
        .rows;
      expect(fallback?.wal_autocheckpoint).toBe(FALLBACK_AUTOCHECKPOINT_PAGES);
      await db.schema.createTable('t').addColumn('x', 'blob').execute();
      // Five bursts of about 600 pages each, one commit per row, with time for the worker in between. Without
      // it, nothing would checkpoint before 10,000 pages and the WAL would hold all ~3,000.
      const blob = Buffer.alloc(PAGE * 2, 7);
      for (let burst = 0; burst < 5; burst++) {
        for (let i = 0; i < 300; i++) {
          await db
            .insertInto('t' as never)
            .values({ x: blob })
            .execute();
        }
        await sleep(1_200);
      }
      expect(statSync(`${path}-wal`).size).toBeLessThan(1_500 * PAGE);
      const [count] = (await sql<{ n: number }>`select count(*) as n from t`.execute(db)).rows;
      expect(count?.n).toBe(1_500);
    } finally {
      await storage.close();
    }
  }, 30_000);
});
