import { testBackends } from './backends.js';
import { CHROMIUM_PATH, hasChromium } from './browser.js';

export function setup(): void {
  const names = testBackends().map((b) => b.name);
  if (!names.includes('postgres')) {
    console.warn(
      '\n[latchkey] LATCHKEY_TEST_POSTGRES_URL is not set: PostgreSQL storage and HTTP tests are SKIPPED.\n',
    );
  }
  if (!process.env['LATCHKEY_TEST_REDIS_URL']) {
    console.warn('[latchkey] LATCHKEY_TEST_REDIS_URL is not set: Redis-backed tests are SKIPPED.\n');
  }
  if (!hasChromium) {
    console.warn(
      `[latchkey] ${CHROMIUM_PATH} is missing: browser tests (accessibility, screenshots) are SKIPPED. Install it with \`apt-get install -y chromium\`.\n`,
    );
  }
}
