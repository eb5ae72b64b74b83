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
  EnabledClientsQuery,
  EnabledClientsUpdate,
  EnabledClientsView,
  toConnectionView,
} from './schemas.js';
import type { Connection } from '../../domain/connection.js';
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
        ...(q.strategy !== undefined ? { strategies: q.strategy } : {}),
        ...(q.name !== undefined ? { name: q.name } : {}),
      };
      const toView = (c: Connection) => selectFields(toConnectionView(c), q);
      if (isCheckpointRequest(q)) {
        return checkpointPage(
          'connections',
          q,
          (after, limit) => service.listAfter(filter, after, limit),
          toView,
        );
      }
      const { items, total } = await service.list(filter, toPage(q));
      return offsetListBody('connections', items.map(toView), q, total);
    },
  );

  app.post(
    '/connections',
    {
      config: { invalidates: 'config' },
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
      config: { invalidates: 'config' },
      schema: { params: ConnectionParams, body: ConnectionUpdate, response: { 200: ConnectionView } },
      preHandler: requireScope('update:connections'),
    },
    async (req) => toConnectionView(await service.update(req.params.id, req.body)),
  );

  app.get(
    '/connections/:id/clients',
    {
      schema: {
        params: ConnectionParams,
        querystring: EnabledClientsQuery,
        response: { 200: EnabledClientsView },
      },
      preHandler: requireScope('read:connections'),
    },
    async (req) =>
      checkpointPage(
        'clients',
        req.query,
        async (after, limit) =>
          (await service.enabledClients(req.params.id, after, limit)).map((id) => ({ id })),
        (row) => ({ client_id: row.id }),
      ),
  );

  app.patch(
    '/connections/:id/clients',
    {
      config: { invalidates: 'config' },
      schema: { params: ConnectionParams, body: EnabledClientsUpdate },
      preHandler: requireScope('update:connections'),
    },
    async (req, reply) => {
      await service.updateEnabledClients(req.params.id, req.body);
      return reply.status(204).send();
    },
  );

  app.delete(
    '/connections/:id',
    {
      config: { invalidates: 'config' },
      schema: { params: ConnectionParams },
      preHandler: requireScope('delete:connections'),
    },
    async (req, reply) => {
      await service.remove(req.params.id);
      return reply.status(202).send();
    },
  );
};
