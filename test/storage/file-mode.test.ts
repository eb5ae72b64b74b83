import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createStorage } from '../../src/storage/db.js';

// Issue 9: the database holds password hashes and sealed secrets; only its owner may read it.
describe('the SQLite database file', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const mode = (path: string) => statSync(path).mode & 0o777;

  it('is created 0600 in a 0700 folder, and so are its journal files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-mode-'));
    dirs.push(dir);
    const path = join(dir, 'nested', 'db.sqlite');
    const storage = await createStorage(`sqlite:${path}`);
    await storage.db.schema.createTable('t').addColumn('x', 'integer').execute();
    expect(mode(join(dir, 'nested'))).toBe(0o700);
    expect([mode(path), mode(`${path}-wal`), mode(`${path}-shm`)]).toEqual([0o600, 0o600, 0o600]);
    await storage.close();
  });

  it('is tightened to 0600 when an older start left it readable by others', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-mode-'));
    dirs.push(dir);
    const path = join(dir, 'db.sqlite');
    writeFileSync(path, '');
    chmodSync(path, 0o644);
    const storage = await createStorage(`sqlite:${path}`);
    expect(mode(path)).toBe(0o600);
    await storage.close();
  });
});
