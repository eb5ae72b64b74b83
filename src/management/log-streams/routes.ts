import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { Deps } from '../../server/deps.js';
import { requireScope } from '../auth.js';
import {
  LogStreamCreate,
  LogStreamListView,
  LogStreamParams,
  LogStreamUpdate,
  LogStreamView,
  toLogStreamView,
} from './schemas.js';
import { assertSupportedType, createLogStreamService } from './service.js';

// Before the schema: its sink is the HTTP one, so a datadog body would otherwise be refused for its fields.
async function refuseOtherTypes(req: FastifyRequest): Promise<void> {
  const body = req.body;
  if (typeof body === 'object' && body !== null) assertSupportedType((body as { type?: unknown }).type);
}

/** /log-streams (Auth0's log streams; only type http). Writes make every node reload its streams. */
export const logStreamRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const service = createLogStreamService(deps);

  app.get(
    '/log-streams',
    { schema: { response: { 200: LogStreamListView } }, preHandler: requireScope('read:log_streams') },
    async () => (await service.list()).map(toLogStreamView),
  );

  app.post(
    '/log-streams',
    {
      schema: { body: LogStreamCreate, response: { 201: LogStreamView } },
      preValidation: refuseOtherTypes,
      preHandler: requireScope('create:log_streams'),
      config: { invalidates: 'config' },
    },
    async (req, reply) => reply.status(201).send(toLogStreamView(await service.create(req.body))),
  );

  app.get(
    '/log-streams/:id',
    {
      schema: { params: LogStreamParams, response: { 200: LogStreamView } },
      preHandler: requireScope('read:log_streams'),
    },
    async (req) => toLogStreamView(await service.get(req.params.id)),
  );

  app.patch(
    '/log-streams/:id',
    {
      schema: { params: LogStreamParams, body: LogStreamUpdate, response: { 200: LogStreamView } },
      preHandler: requireScope('update:log_streams'),
      config: { invalidates: 'config' },
    },
    async (req) => toLogStreamView(await service.update(req.params.id, req.body)),
  );

  app.delete(
    '/log-streams/:id',
    {
      schema: { params: LogStreamParams },
      preHandler: requireScope('delete:log_streams'),
      config: { invalidates: 'config' },
    },
    async (req, reply) => {
      await service.delete(req.params.id);
      return reply.status(204).send();
    },
  );
};
