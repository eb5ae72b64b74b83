import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axe from 'axe-core';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`); .ci/run installs it when it is missing. */
export const CHROMIUM_PATH = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM_PATH);
/** Screenshots land here for a human to look at (gitignored). */
export const ARTIFACTS_DIR = 'test-artifacts';

export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

export interface LaunchOptions {
  /** Talk to a test TLS proxy with a self-signed certificate (test/helpers/tls-proxy.ts). */
  readonly ignoreHTTPSErrors?: boolean;
  /**
   * Send cookies in third-party contexts, as Chrome does for its users by default. This Chromium blocks them
   * in a new profile (as Safari and Firefox do): the profile's cookie controls say otherwise.
   */
  readonly thirdPartyCookies?: boolean;
}

/** Headless Chromium with a fresh profile, so no state leaks between runs. */
export async function launchBrowser(options: LaunchOptions = {}): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'latchkey-chromium-'));
  if (options.thirdPartyCookies === true) {
    mkdirSync(join(profile, 'Default'));
    writeFileSync(
      join(profile, 'Default', 'Preferences'),
      JSON.stringify({ profile: { cookie_controls_mode: 0, block_third_party_cookies: false } }),
    );
  }
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    ignoreHTTPSErrors: options.ignoreHTTPSErrors === true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly targets: string[];
}

export interface PageReport {
  /** Console errors and uncaught exceptions, CSP refusals among them. */
  readonly errors: string[];
  /** Every axe violation, whatever its impact. */
  readonly violations: AxeViolation[];
  readonly screenshots: string[];
}

/**
 * Opens `url` at each viewport (and the desktop one in dark mode), runs axe-core on it and saves a
 * full-page screenshot per view. `expectedStatus` is 4xx for error pages.
 * @throws Error naming every serious or critical axe violation.
 */
export async function checkPage(
  browser: Browser,
  url: string,
  name: string,
  expectedStatus = 200,
): Promise<PageReport> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const errors: string[] = [];
  const violations: AxeViolation[] = [];
  const screenshots: string[] = [];
  const views = [
    { label: 'desktop', viewport: VIEWPORTS.desktop, colorScheme: 'light' },
    { label: 'phone', viewport: VIEWPORTS.phone, colorScheme: 'light' },
    { label: 'desktop-dark', viewport: VIEWPORTS.desktop, colorScheme: 'dark' },
  ] as const;
  for (const view of views) {
    const page = await browser.context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`${view.label}: ${message.text()}`);
    });
    page.on('pageerror', (error) => errors.push(`${view.label}: ${error.message}`));
    try {
      await page.setViewportSize(view.viewport);
      await page.emulateMedia({ colorScheme: view.colorScheme });
      const response = await page.goto(url, { waitUntil: 'load' });
      if (response?.status() !== expectedStatus)
        throw new Error(`${url} answered ${String(response?.status())}`);
      for (const v of await runAxe(page)) {
        violations.push({ ...v, targets: v.targets.map((t) => `${view.label}: ${t}`) });
      }
      const path = join(ARTIFACTS_DIR, `${name}-${view.label}.png`);
      await page.screenshot({ path, fullPage: true });
      screenshots.push(path);
    } finally {
      await page.close();
    }
  }
  const blocking = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (blocking.length > 0) {
    throw new Error(
      `accessibility violations on ${url}:\n${blocking
        .map((v) => `  ${String(v.impact)} ${v.id}: ${v.help}\n    ${v.targets.join('\n    ')}`)
        .join('\n')}`,
    );
  }
  return { errors, violations, screenshots };
}

// Evaluated through the DevTools protocol, which the page's CSP does not govern: the page itself still
// runs under its own policy. Page-side code is a string: this project compiles without the DOM types.
async function runAxe(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axe.source);
  return page.evaluate<AxeViolation[]>(`
    axe.run(document, { resultTypes: ['violations'] }).then(({ violations }) =>
      violations.map((v) => ({
        id: v.id,
        impact: v.impact ?? null,
        help: v.help,
        targets: v.nodes.map((n) => n.target.join(' ')),
      })),
    )
  `);
}
