import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Deps } from '../../server/deps.js';
import { requireScope } from '../auth.js';
import { FactorList, FactorParams, FactorUpdate, Policies } from './schemas.js';
import { createGuardianService } from './service.js';

/** Auth0's tenant MFA configuration: which factors users may enrol, and whether every application demands one. */
export const guardianRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const service = createGuardianService(deps);

  app.get(
    '/guardian/factors',
    { schema: { response: { 200: FactorList } }, preHandler: requireScope('read:guardian_factors') },
    async () => service.factors(),
  );

  app.put(
    '/guardian/factors/:name',
    {
      config: { invalidates: 'config' },
      schema: { params: FactorParams, body: FactorUpdate, response: { 200: FactorUpdate } },
      preHandler: requireScope('update:guardian_factors'),
    },
    async (req) => service.setFactor(req.params.name, req.body.enabled),
  );

  app.get(
    '/guardian/policies',
    { schema: { response: { 200: Policies } }, preHandler: requireScope('read:mfa_policies') },
    async () => service.policies(),
  );

  app.put(
    '/guardian/policies',
    {
      config: { invalidates: 'config' },
      schema: { body: Policies, response: { 200: Policies } },
      preHandler: requireScope('update:mfa_policies'),
    },
    async (req) => service.setPolicies(req.body),
  );
};
