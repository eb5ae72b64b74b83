import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Deps } from '../../server/deps.js';
import { requireScope } from '../auth.js';
import { checkpointPage, isCheckpointRequest, offsetListBody, toPage } from '../pagination.js';
import {
  ClientGrantCreate,
  ClientGrantListQuery,
  ClientGrantListView,
  ClientGrantParams,
  ClientGrantUpdate,
  ClientGrantView,
  toClientGrantView,
} from './schemas.js';
import { createClientGrantService } from './service.js';

export const clientGrantRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const service = createClientGrantService(deps);

  app.get(
    '/client-grants',
    {
      schema: { querystring: ClientGrantListQuery, response: { 200: ClientGrantListView } },
      preHandler: requireScope('read:client_grants'),
    },
    async (req) => {
      const q = req.query;
      const filter = {
        ...(q.audience !== undefined ? { audience: q.audience } : {}),
        ...(q.client_id !== undefined ? { clientId: q.client_id } : {}),
        ...(q.subject_type !== undefined ? { subjectType: q.subject_type } : {}),
        ...(q.default_for !== undefined ? { defaultFor: q.default_for } : {}),
        ...(q.allow_any_organization !== undefined ? { allowAnyOrganization: q.allow_any_organization } : {}),
      };
      if (isCheckpointRequest(q)) {
        return checkpointPage(
          'client_grants',
          q,
          async (afterId, limit) => (await service.list(filter, { offset: 0, limit }, afterId)).items,
          toClientGrantView,
        );
      }
      const { items, total } = await service.list(filter, toPage(q));
      return offsetListBody('client_grants', items.map(toClientGrantView), q, total);
    },
  );

  app.post(
    '/client-grants',
    {
      config: { invalidates: 'config' },
      schema: { body: ClientGrantCreate, response: { 201: ClientGrantView } },
      preHandler: requireScope('create:client_grants'),
    },
    async (req, reply) => reply.status(201).send(toClientGrantView(await service.create(req.body))),
  );

  app.get(
    '/client-grants/:id',
    {
      schema: { params: ClientGrantParams, response: { 200: ClientGrantView } },
      preHandler: requireScope('read:client_grants'),
    },
    async (req) => toClientGrantView(await service.get(req.params.id)),
  );

  app.patch(
    '/client-grants/:id',
    {
      config: { invalidates: 'config' },
      schema: { params: ClientGrantParams, body: ClientGrantUpdate, response: { 200: ClientGrantView } },
      preHandler: requireScope('update:client_grants'),
    },
    async (req) => toClientGrantView(await service.update(req.params.id, req.body)),
  );

  app.delete(
    '/client-grants/:id',
    {
      config: { invalidates: 'config' },
      schema: { params: ClientGrantParams },
      preHandler: requireScope('delete:client_grants'),
    },
    async (req, reply) => {
      await service.remove(req.params.id);
      return reply.status(204).send();
    },
  );
};
