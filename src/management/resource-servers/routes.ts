import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Deps } from '../../server/deps.js';
import { requireScope } from '../auth.js';
import { offsetListBody, selectFields, toPage } from '../pagination.js';
import {
  ResourceServerCreate,
  ResourceServerGetQuery,
  ResourceServerListQuery,
  ResourceServerListView,
  ResourceServerParams,
  ResourceServerUpdate,
  ResourceServerView,
  toResourceServerView,
} from './schemas.js';
import { createResourceServerService } from './service.js';

export const resourceServerRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const service = createResourceServerService(deps);

  app.get(
    '/resource-servers',
    {
      schema: { querystring: ResourceServerListQuery, response: { 200: ResourceServerListView } },
      preHandler: requireScope('read:resource_servers'),
    },
    async (req) => {
      const { items, total } = await service.list(toPage(req.query), req.query.identifiers ?? []);
      const views = items.map((rs) => selectFields(toResourceServerView(rs), req.query));
      return offsetListBody('resource_servers', views, req.query, total);
    },
  );

  app.post(
    '/resource-servers',
    {
      config: { invalidates: 'config' },
      schema: { body: ResourceServerCreate, response: { 201: ResourceServerView } },
      preHandler: requireScope('create:resource_servers'),
    },
    async (req, reply) => reply.status(201).send(toResourceServerView(await service.create(req.body))),
  );

  app.get(
    '/resource-servers/:id',
    {
      schema: {
        params: ResourceServerParams,
        querystring: ResourceServerGetQuery,
        response: { 200: ResourceServerView },
      },
      preHandler: requireScope('read:resource_servers'),
    },
    async (req) => selectFields(toResourceServerView(await service.get(req.params.id)), req.query),
  );

  // Spec §6.9: the OAS says 201, the live API is believed to answer 200; SDKs accept any 2xx.
  app.patch(
    '/resource-servers/:id',
    {
      config: { invalidates: 'config' },
      schema: {
        params: ResourceServerParams,
        body: ResourceServerUpdate,
        response: { 200: ResourceServerView },
      },
      preHandler: requireScope('update:resource_servers'),
    },
    async (req) => toResourceServerView(await service.update(req.params.id, req.body)),
  );

  app.delete(
    '/resource-servers/:id',
    {
      config: { invalidates: 'config' },
      schema: { params: ResourceServerParams },
      preHandler: requireScope('delete:resource_servers'),
    },
    async (req, reply) => {
      await service.remove(req.params.id);
      return reply.status(204).send();
    },
  );
};
