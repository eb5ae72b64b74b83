// What recording tenant log events costs the server: CPU per event through the recorder (scrubbing, ids, batched
// Kysely inserts) against the floor of the same rows inserted with a bare better-sqlite3 prepared statement in
// one transaction per batch, measured in the same run; and the same on PostgreSQL with --postgres.
// CPU time comes from process accounting (user + system of this process), so a busy machine skews it less
// than wall time. Usage: npm run bench:logs [-- --events 50000 --rounds 3 --postgres postgres://…]
import { mkdtempSync, rmSync } from 'node:fs';
import { setImmediate } from 'node:timers';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createStorage, dropSchema } from '../dist/storage/db.js';
import { migrateToLatest } from '../dist/storage/migrate.js';
import { createDeps } from '../dist/server/deps.js';
import { DEFAULT_SERVER_SETTINGS } from '../dist/config/schema.js';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const EVENTS = Number(args.events ?? 50_000);
const ROUNDS = Number(args.rounds ?? 3);
const BATCH = 500;

const config = (databaseUrl) =>
  Object.freeze({
    port: 0,
    host: '127.0.0.1',
    issuer: 'http://127.0.0.1:3999/',
    databaseUrl,
    redisUrl: undefined,
    secret: 'bench-logs-secret-0123456789abcdef0123',
    logLevel: 'silent',
    trustProxy: false,
    server: DEFAULT_SERVER_SETTINGS,
  });

// An event as the token endpoint records a client-credentials exchange.
const event = (i) => ({
  type: 'seccft',
  description: '',
  clientId: 'zW1pDqJ8H5nq0sF3tW8yX2cV6bN4mL7k',
  clientName: 'Orders service',
  audience: 'https://orders.example.com/',
  scope: 'read:orders write:orders',
  ip: `10.0.${i % 256}.${(i >> 8) % 256}`,
  userAgent: 'node-fetch/1.0',
  hostname: 'id.example.com',
});

const cpuMicros = (since) => {
  const used = process.cpuUsage(since);
  return used.user + used.system;
};

async function recorderRun(databaseUrl, schema) {
  const storage = await createStorage(databaseUrl, schema ? { schema } : {});
  await migrateToLatest(storage);
  const deps = createDeps(config(databaseUrl), storage);
  const start = process.cpuUsage();
  for (let i = 0; i < EVENTS; i++) {
    deps.events.record(event(i));
    // Requests arrive over time: let batches form as they would between requests, and keep the queue short
    // (a loop records far faster than any server answers requests).
    if (i % 100 === 99) await new Promise((r) => setImmediate(r));
    if (i % 2000 === 1999) await deps.events.flush();
  }
  await deps.events.flush();
  const micros = cpuMicros(start) / EVENTS;
  await deps.close();
  await storage.close();
  return micros;
}

function bareSqliteRun(path) {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(`create table logs (tenant_id text not null, log_id text not null, at integer not null, type text not null,
    description text, client_id text, client_name text, audience text, scope text, ip text, user_agent text,
    hostname text, primary key (tenant_id, log_id))`);
  const insert = db.prepare('insert into logs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const many = db.transaction((rows) => {
    for (const r of rows) insert.run(r);
  });
  const start = process.cpuUsage();
  for (let b = 0; b < EVENTS; b += BATCH) {
    const rows = [];
    for (let i = b; i < Math.min(EVENTS, b + BATCH); i++) {
      const e = event(i);
      rows.push([
        'default',
        `900${String(i).padStart(53, '0')}`,
        Date.now(),
        e.type,
        e.description,
        e.clientId,
        e.clientName,
        e.audience,
        e.scope,
        e.ip,
        e.userAgent,
        e.hostname,
      ]);
    }
    many(rows);
  }
  const micros = cpuMicros(start) / EVENTS;
  db.close();
  return micros;
}

console.log(`Latchkey log-recording bench: ${EVENTS} events per run, ${ROUNDS} rounds, CPU µs per event`);
const dir = mkdtempSync(join(tmpdir(), 'latchkey-logs-'));
try {
  for (let round = 1; round <= ROUNDS; round++) {
    const bare = bareSqliteRun(join(dir, `bare-${round}.sqlite`));
    const recorded = await recorderRun(`sqlite:${join(dir, `rec-${round}.sqlite`)}`);
    let line = `  round ${round}  SQLite: bare prepared insert ${bare.toFixed(1)} µs, recorder ${recorded.toFixed(1)} µs = ${(recorded / bare).toFixed(2)} x the floor`;
    if (args.postgres) {
      const schema = `bench_logs_${process.pid}_${round}`;
      try {
        line += `; PostgreSQL: recorder ${(await recorderRun(args.postgres, schema)).toFixed(1)} µs`;
      } finally {
        await dropSchema(args.postgres, schema);
      }
    }
    console.log(line);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
