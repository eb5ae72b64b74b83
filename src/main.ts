import { buildApp, LOG_REDACT } from './app.js';
import { bootstrapTenant } from './bootstrap/service.js';
import { ConfigError, loadConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import { createDeps, type Deps } from './server/deps.js';
import { stopGracefullyOnSignals } from './server/shutdown.js';
import { SecretMismatch } from './lib/secret-box.js';
import { createStorage } from './storage/db.js';
import { migrateToLatest } from './storage/migrate.js';

/** Runs pending migrations and exits. */
export async function migrate(
  config: Config = loadConfig(process.env, { needsSecret: false }),
): Promise<string[]> {
  const storage = await createStorage(config.databaseUrl);
  try {
    return await migrateToLatest(storage);
  } finally {
    await storage.close();
  }
}

/**
 * loadConfig → storage → migrate → bootstrap → buildApp → listen. SIGINT/SIGTERM stop it gracefully,
 * within LATCHKEY_SHUTDOWN_TIMEOUT.
 */
export async function start(config: Config = loadConfig()): Promise<void> {
  const storage = await createStorage(config.databaseUrl);
  await migrateToLatest(storage);
  // The event recorder reports storage trouble through the app's logger once it exists.
  const logger: {
    warn?: (message: string, detail?: Record<string, unknown>) => void;
    info?: (message: string, detail: Record<string, unknown>) => void;
  } = {};
  const deps = createDeps(config, storage, {
    warn: (message, detail) => {
      if (logger.warn) logger.warn(message, detail);
      else process.emitWarning(message);
    },
    info: (message, detail) => {
      if (logger.info) logger.info(message, detail);
      else process.stdout.write(`${JSON.stringify({ level: 'info', msg: message, ...detail })}\n`);
    },
  });
  const { generatedClient } = await bootstrap(config, deps);
  const app = await buildApp(deps, { logger: { level: config.logLevel, redact: LOG_REDACT } });
  logger.warn = (message, detail) => {
    app.log.warn(detail ?? {}, message);
  };
  logger.info = (message, detail) => {
    app.log.info(detail, message);
  };
  if (generatedClient) printBootstrapClient(config, generatedClient);
  stopGracefullyOnSignals({
    app,
    deadlineMs: config.server.shutdownTimeoutMs,
    release: async () => {
      await deps.close();
      await storage.close();
    },
    exit: (code) => process.exit(code),
  });
  await app.listen({ port: config.port, host: config.host });
}

/** Bootstrap reads the signing keys first, so a changed LATCHKEY_SECRET surfaces here as a config error. */
async function bootstrap(config: Config, deps: Deps): ReturnType<typeof bootstrapTenant> {
  try {
    return await bootstrapTenant(
      {
        tenantId: deps.tenantId,
        issuer: config.issuer,
        bootstrapClientId: config.bootstrapClientId,
        bootstrapClientSecret: config.bootstrapClientSecret,
      },
      deps,
    );
  } catch (error) {
    if (!(error instanceof SecretMismatch)) throw error;
    await deps.close();
    throw new ConfigError([
      'LATCHKEY_SECRET: cannot decrypt the stored signing keys; it differs from the secret this database was written with',
    ]);
  }
}

// Printed once on stderr, apart from the JSON log on stdout: log shippers index the log, and the logger
// must never carry secrets.
function printBootstrapClient(config: Config, client: { clientId: string; clientSecret: string }): void {
  process.stderr.write(
    [
      '',
      'Latchkey generated a bootstrap machine-to-machine client (shown once; store it now):',
      `  client_id:     ${client.clientId}`,
      `  client_secret: ${client.clientSecret}`,
      `  audience:      ${config.issuer}api/v2/`,
      'Set LATCHKEY_BOOTSTRAP_CLIENT_ID / LATCHKEY_BOOTSTRAP_CLIENT_SECRET to choose your own.',
      '',
    ].join('\n'),
  );
}
