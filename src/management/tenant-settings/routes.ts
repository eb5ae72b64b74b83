import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Deps } from '../../server/deps.js';
import { requireScope } from '../auth.js';
import { selectFields } from '../pagination.js';
import {
  TenantSettingsQuery,
  TenantSettingsUpdate,
  TenantSettingsView,
  toTenantSettingsView,
} from './schemas.js';
import { createTenantSettingsService } from './service.js';

export const tenantSettingsRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const service = createTenantSettingsService(deps);

  app.get(
    '/tenants/settings',
    {
      schema: { querystring: TenantSettingsQuery, response: { 200: TenantSettingsView } },
      preHandler: requireScope('read:tenant_settings'),
    },
    async (req) => selectFields(toTenantSettingsView(await service.get()), req.query),
  );

  app.patch(
    '/tenants/settings',
    {
      config: { invalidates: 'config' },
      schema: { body: TenantSettingsUpdate, response: { 200: TenantSettingsView } },
      preHandler: requireScope('update:tenant_settings'),
    },
    async (req) => toTenantSettingsView(await service.update(req.body)),
  );
};
