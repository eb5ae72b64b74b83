import { BadRequest } from '../../errors/api.js';
import { httpsUrl } from '../../pages/look.js';
import type { Store } from '../../storage/repositories/index.js';
import type { BrandingUpdate, BrandingView } from './schemas.js';

/** Where the branding lives: one key of the tenant settings, so it is cached and invalidated with them. */
const KEY = 'branding';

type Stored = Record<string, unknown>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Auth0: "Must use HTTPS." Also no credentials and nothing that could split a CSP source list. */
function assertHttps(field: string, url: string | null | undefined): void {
  if (url === undefined || url === null) return;
  if (!httpsUrl(url)) {
    throw new BadRequest(
      'invalid_body',
      `Payload validation error: '${url}' is not an https URL on property ${field}.`,
    );
  }
}

/** Keeps the entries whose value is neither null nor undefined. */
function present(entries: [string, unknown][]): Stored {
  return Object.fromEntries(entries.filter(([, v]) => v !== null && v !== undefined));
}

/** Top-level keys replace, `colors` and `font` merge one level, null removes; empty objects disappear. */
function merge(current: Stored, body: BrandingUpdate): Stored {
  const next = present(Object.entries({ ...current, ...body }));
  for (const key of ['colors', 'font'] as const) {
    const sent = body[key];
    if (sent === undefined || sent === null) continue;
    const before = current[key];
    const inner = present(Object.entries({ ...(isRecord(before) ? before : {}), ...sent }));
    if (Object.keys(inner).length > 0) next[key] = inner;
    else next[key] = undefined;
  }
  return present(Object.entries(next));
}

export function createBrandingService(deps: { readonly store: Store }) {
  const { store } = deps;
  return {
    async get(): Promise<BrandingView> {
      const branding = ((await store.tenants.find())?.settings ?? {})[KEY];
      return isRecord(branding) ? branding : {};
    },

    async update(body: BrandingUpdate): Promise<BrandingView> {
      assertHttps('logo_url', body.logo_url);
      assertHttps('favicon_url', body.favicon_url);
      assertHttps('font.url', body.font?.url);
      return store.transaction(async (repos) => {
        await repos.tenants.lock();
        const settings = (await repos.tenants.find())?.settings ?? {};
        const current = isRecord(settings[KEY]) ? settings[KEY] : {};
        const next = merge(current, body);
        const { [KEY]: _old, ...rest } = settings;
        await repos.tenants.updateSettings(Object.keys(next).length > 0 ? { ...rest, [KEY]: next } : rest);
        return next;
      });
    },
  };
}
