import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Deps } from '../../server/deps.js';
import { requireScope } from '../auth.js';
import { BrandingUpdate, BrandingView } from './schemas.js';
import { createBrandingService } from './service.js';

/** Auth0's GET and PATCH /api/v2/branding: the colours, logo and favicon of the hosted pages. */
export const brandingRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const service = createBrandingService(deps);

  app.get(
    '/branding',
    { schema: { response: { 200: BrandingView } }, preHandler: requireScope('read:branding') },
    async () => service.get(),
  );

  app.patch(
    '/branding',
    {
      config: { invalidates: 'config' },
      schema: { body: BrandingUpdate, response: { 200: BrandingView } },
      preHandler: requireScope('update:branding'),
    },
    async (req) => service.update(req.body),
  );
};
