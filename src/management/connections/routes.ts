import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Deps } from '../../server/deps.js';
import { requireScope } from '../auth.js';
import { checkpointPage, isCheckpointRequest, offsetListBody, selectFields, toPage } from '../pagination.js';
import {
  ConnectionCreate,
  ConnectionGetQuery,
  ConnectionListQuery,
  ConnectionListView,
  ConnectionParams,
  ConnectionUpdate,
  ConnectionView,
  toConnectionView,
} from './schemas.js';
import { createConnectionService } from './service.js';

export const connectionRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const service = createConnectionService(deps);

  app.get(
    '/connections',
    {
      schema: { querystring: ConnectionListQuery, response: { 200: ConnectionListView } },
      preHandler: requireScope('read:connections'),
    },
    async (req) => {
      const q = req.query;
      const filter = {
        ...(q.strategy !== undefined ? { strategy: q.strategy } : {}),
        ...(q.name !== undefined ? { name: q.name } : {}),
      };
      if (isCheckpointRequest(q)) {
        return checkpointPage(
          'connections',
          q,
          (afterId, limit) => service.list(filter, { offset: 0, limit }, afterId),
          (c) => selectFields(toConnectionView(c), q),
        );
      }
      const all = await service.list(filter, { offset: 0, limit: 100_000 });
      const { offset, limit } = toPage(q);
      const views = all.slice(offset, offset + limit).map((c) => selectFields(toConnectionView(c), q));
      return offsetListBody('connections', views, q, all.length);
    },
  );

  app.post(
    '/connections',
    {
      schema: { body: ConnectionCreate, response: { 201: ConnectionView } },
      preHandler: requireScope('create:connections'),
    },
    async (req, reply) => reply.status(201).send(toConnectionView(await service.create(req.body))),
  );

  app.get(
    '/connections/:id',
    {
      schema: {
        params: ConnectionParams,
        querystring: ConnectionGetQuery,
        response: { 200: ConnectionView },
      },
      preHandler: requireScope('read:connections'),
    },
    async (req) => selectFields(toConnectionView(await service.get(req.params.id)), req.query),
  );

  app.patch(
    '/connections/:id',
    {
      schema: { params: ConnectionParams, body: ConnectionUpdate, response: { 200: ConnectionView } },
      preHandler: requireScope('update:connections'),
    },
    async (req) => toConnectionView(await service.update(req.params.id, req.body)),
  );

  app.delete(
    '/connections/:id',
    { schema: { params: ConnectionParams }, preHandler: requireScope('delete:connections') },
    async (req, reply) => {
      await service.remove(req.params.id);
      return reply.status(202).send();
    },
  );
};
