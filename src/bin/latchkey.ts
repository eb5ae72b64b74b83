#!/usr/bin/env node
import { ConfigError, loadConfig } from '../config/load.js';
import { migrate, start } from '../main.js';

const USAGE = 'usage: latchkey <start|migrate>';

async function run(command: string | undefined): Promise<void> {
  switch (command) {
    case 'start':
      await start(loadConfig());
      return;
    case 'migrate': {
      const applied = await migrate(loadConfig(process.env, { needsSecret: false }));
      process.stdout.write(
        applied.length > 0 ? `applied: ${applied.join(', ')}\n` : 'schema is up to date\n',
      );
      return;
    }
    default:
      process.stderr.write(`${USAGE}\n`);
      process.exitCode = 2;
  }
}

run(process.argv[2]).catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
  process.exit(1);
});
