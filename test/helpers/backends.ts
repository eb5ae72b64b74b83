export interface TestBackend {
  readonly name: 'sqlite' | 'postgres';
  /** A database URL for one isolated test database (fresh file or fresh schema). */
  readonly url: string;
}

/** SQLite always; PostgreSQL when LATCHKEY_TEST_POSTGRES_URL is set (CI sets it). */
export function testBackends(): TestBackend[] {
  const backends: TestBackend[] = [{ name: 'sqlite', url: 'sqlite::memory:' }];
  const pg = process.env['LATCHKEY_TEST_POSTGRES_URL'];
  if (pg) backends.push({ name: 'postgres', url: pg });
  return backends;
}
