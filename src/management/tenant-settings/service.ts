import { BadRequest } from '../../errors/api.js';
import type { Store } from '../../storage/repositories/index.js';
import { assertUrlList, assertWebUrl } from '../urls.js';
import { ID_TOKEN_FLAG } from '../legacy-id-tokens.js';
import { LIFETIMES, type TenantSettingsUpdate } from './schemas.js';

/**
 * Session lifetimes are stored in minutes (`session_lifetime_in_minutes`, …). Settings written before, such as
 * the bootstrap defaults, hold hours under the plain name: read them as minutes.
 */
function withLifetimesInMinutes(settings: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const hourKeys = new Set<string>(LIFETIMES);
  const out = Object.fromEntries(Object.entries(settings).filter(([key]) => !hourKeys.has(key)));
  for (const name of LIFETIMES) {
    const hours = settings[name];
    if (typeof hours === 'number' && out[`${name}_in_minutes`] === undefined) {
      out[`${name}_in_minutes`] = Math.round(hours * 60);
    }
  }
  return out;
}

/** Flags Latchkey acts on are shown even while unset, with their default (seed 003's ID-token flag is off). */
function withDefaultFlags(settings: Record<string, unknown>): Record<string, unknown> {
  const flags = typeof settings['flags'] === 'object' && settings['flags'] !== null ? settings['flags'] : {};
  return { ...settings, flags: { [ID_TOKEN_FLAG]: false, ...flags } };
}

/**
 * The body's lifetimes in minutes.
 * @throws BadRequest when one lifetime comes both in hours and in minutes (Auth0 docs: "Cannot be specified
 * together"), or rounds to less than a minute.
 */
function lifetimeMinutes(body: TenantSettingsUpdate): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of LIFETIMES) {
    const hours = body[name];
    const minutes = body[`${name}_in_minutes`];
    if (hours !== undefined && minutes !== undefined) {
      throw new BadRequest(
        'invalid_body',
        `Payload validation error: ${name} and ${name}_in_minutes cannot be specified together.`,
      );
    }
    const value = minutes ?? (hours === undefined ? undefined : Math.round(hours * 60));
    if (value === undefined) continue;
    if (value < 1) {
      throw new BadRequest('invalid_body', `Payload validation error: ${name} must be at least one minute.`);
    }
    out[`${name}_in_minutes`] = value;
  }
  return out;
}

export function createTenantSettingsService(deps: { readonly store: Store }) {
  const { store } = deps;
  return {
    async get(): Promise<Readonly<Record<string, unknown>>> {
      return withDefaultFlags(withLifetimesInMinutes((await store.tenants.find())?.settings ?? {}));
    },

    /** Top-level keys replace, `flags` merge one level, null removes a key. */
    async update(body: TenantSettingsUpdate): Promise<Record<string, unknown>> {
      assertWebUrl('picture_url', body.picture_url);
      assertWebUrl('support_url', body.support_url);
      assertUrlList('allowed_logout_urls', body.allowed_logout_urls);
      const lifetimes = lifetimeMinutes(body);
      const lifetimeKeys = new Set<string>(LIFETIMES.flatMap((name) => [name, `${name}_in_minutes`]));
      const rest = Object.fromEntries(Object.entries(body).filter(([key]) => !lifetimeKeys.has(key)));
      return store.transaction(async (repos) => {
        await repos.tenants.lock();
        if (
          typeof body.default_directory === 'string' &&
          !(await repos.connections.findByName(body.default_directory))
        ) {
          throw new BadRequest(
            'invalid_body',
            `Payload validation error: connection ${body.default_directory} does not exist.`,
          );
        }
        const current = withLifetimesInMinutes((await repos.tenants.find())?.settings ?? {});
        const merged: Record<string, unknown> = { ...current, ...rest, ...lifetimes };
        if (body.flags) merged['flags'] = { ...(current['flags'] as object | undefined), ...body.flags };
        const next = Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== null));
        await repos.tenants.updateSettings(next);
        return withDefaultFlags(next);
      });
    },
  };
}
