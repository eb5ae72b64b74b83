import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Deps } from '../../server/deps.js';
import { toLogView } from '../../logs/view.js';
import { requireScope } from '../auth.js';
import { isCheckpointRequest, selectFields, toPage } from '../pagination.js';
import { LogListQuery, LogParams, UserLogsQuery } from './schemas.js';
import { createLogService } from './service.js';

const DEFAULT_TAKE = 50;

/** Auth0's tenant logs: GET /logs (search or checkpoint), /logs/{id} and /users/{id}/logs. */
export const logRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const service = createLogService(deps);

  app.get(
    '/logs',
    { schema: { querystring: LogListQuery }, preHandler: requireScope('read:logs') },
    async (req) => {
      const q = req.query;
      // Auth0: with `from`/`take` every other parameter is ignored, and the answer is a bare array.
      if (isCheckpointRequest(q)) return (await service.after(q.from, q.take ?? DEFAULT_TAKE)).map(toLogView);
      const page = toPage(q);
      const { items, total } = await service.list({ search: q.q ?? q.search, sort: q.sort }, page);
      const logs = items.map((event) => selectFields(toLogView(event), q));
      return q.include_totals === true
        ? { start: page.offset, limit: page.limit, length: logs.length, total, logs }
        : logs;
    },
  );

  app.get(
    '/logs/:id',
    { schema: { params: LogParams }, preHandler: requireScope('read:logs') },
    async (req) => toLogView(await service.get(req.params.id)),
  );

  app.get(
    '/users/:id/logs',
    {
      schema: { params: LogParams, querystring: UserLogsQuery },
      preHandler: requireScope('read:logs', 'read:logs_users'),
    },
    async (req) => {
      const q = req.query;
      const page = toPage(q);
      const { items, total } = await service.list({ sort: q.sort, userId: req.params.id }, page);
      const logs = items.map(toLogView);
      return q.include_totals === true
        ? { start: page.offset, limit: page.limit, length: logs.length, total, logs }
        : logs;
    },
  );
};
