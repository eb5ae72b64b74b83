import { BadRequest } from '../../errors/api.js';
import type { Store } from '../../storage/repositories/index.js';
import { assertUrlList, assertWebUrl } from '../urls.js';
import type { TenantSettingsUpdate } from './schemas.js';

export function createTenantSettingsService(deps: { readonly store: Store }) {
  const { store } = deps;
  return {
    async get(): Promise<Readonly<Record<string, unknown>>> {
      return (await store.tenants.find())?.settings ?? {};
    },

    /** Top-level keys replace, `flags` merge one level, null removes a key. */
    async update(body: TenantSettingsUpdate): Promise<Record<string, unknown>> {
      assertWebUrl('picture_url', body.picture_url);
      assertWebUrl('support_url', body.support_url);
      assertUrlList('allowed_logout_urls', body.allowed_logout_urls);
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
        const current = (await repos.tenants.find())?.settings ?? {};
        const merged: Record<string, unknown> = { ...current, ...body };
        if (body.flags) merged['flags'] = { ...(current['flags'] as object | undefined), ...body.flags };
        const next = Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== null));
        await repos.tenants.updateSettings(next);
        return next;
      });
    },
  };
}
