import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { NotFound } from '../../errors/api.js';
import type { Deps } from '../../server/deps.js';
import type { User } from '../../domain/user.js';
import { requireScope } from '../auth.js';
import { listView, offsetListBody, PageQuery, toPage } from '../pagination.js';

const GrantView = Type.Object({
  id: Type.String(),
  clientID: Type.String(),
  user_id: Type.String(),
  audience: Type.String(),
  scope: Type.Array(Type.String()),
});
const GrantQuery = Type.Object(
  {
    ...PageQuery,
    user_id: Type.Optional(Type.String({ maxLength: 300 })),
    client_id: Type.Optional(Type.String({ maxLength: 64 })),
    audience: Type.Optional(Type.String({ maxLength: 600 })),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 300 }) });
const IdentifierQuery = Type.Object(
  { identifier: Type.String({ minLength: 1, maxLength: 300 }) },
  { additionalProperties: false },
);
const BlocksView = Type.Object({
  blocked_for: Type.Array(
    Type.Object({ identifier: Type.String(), ip: Type.String(), connection: Type.String() }),
  ),
});

/** /grants (a user's consents, whose deletion revokes their refresh tokens) and /user-blocks (brute force). */
export const grantRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const { store } = deps;
  const nowSeconds = () => Math.floor(deps.clock.now() / 1000);

  app.get(
    '/grants',
    {
      schema: {
        querystring: GrantQuery,
        response: {
          200: listView('grants', GrantView),
        },
      },
      preHandler: requireScope('read:grants'),
    },
    async (req) => {
      const q = req.query;
      const filter = {
        ...(q.user_id !== undefined ? { userId: q.user_id } : {}),
        ...(q.client_id !== undefined ? { clientId: q.client_id } : {}),
        ...(q.audience !== undefined ? { audience: q.audience } : {}),
      };
      const [items, total] = await Promise.all([
        store.consents.list(filter, toPage(q)),
        store.consents.count(filter),
      ]);
      const views = items.map((c) => ({
        id: c.id,
        clientID: c.clientId,
        user_id: c.userId,
        audience: c.audience,
        scope: [...c.scope],
      }));
      return offsetListBody('grants', views, q, total);
    },
  );

  app.delete(
    '/grants/:id',
    { schema: { params: IdParams }, preHandler: requireScope('delete:grants') },
    async (req, reply) => {
      const consent = await store.consents.findById(req.params.id);
      if (!consent) throw new NotFound('inexistent_grant', 'The grant does not exist.');
      await store.transaction(async (repos) => {
        await repos.refreshTokens.revokeFor(consent.userId, consent.clientId, consent.audience, nowSeconds());
        await repos.consents.delete(consent.id);
      });
      return reply.status(204).send();
    },
  );

  app.delete(
    '/grants',
    {
      schema: {
        querystring: Type.Object(
          { user_id: Type.String({ minLength: 1, maxLength: 300 }) },
          { additionalProperties: false },
        ),
      },
      preHandler: requireScope('delete:grants'),
    },
    async (req, reply) => {
      await store.transaction(async (repos) => {
        for (const c of await repos.consents.list(
          { userId: req.query.user_id },
          { offset: 0, limit: 10_000 },
        )) {
          await repos.refreshTokens.revokeFor(c.userId, c.clientId, c.audience, nowSeconds());
          await repos.consents.delete(c.id);
        }
      });
      return reply.status(204).send();
    },
  );

  const blocksOf = async (users: readonly User[]) => {
    const now = nowSeconds();
    const perUser = await Promise.all(
      users.map(async (user) =>
        (await store.loginFailures.blocksFor(user.userId, now)).map((b) => ({
          identifier: user.email ?? user.username ?? user.userId,
          ip: b.ip,
          connection: user.connection,
        })),
      ),
    );
    return { blocked_for: perUser.flat() };
  };
  const userOrFail = async (id: string) => {
    const user = await store.users.findById(id);
    if (!user) throw new NotFound('inexistent_user', 'The user does not exist.');
    return user;
  };
  // Auth0 compat: an identifier (email, username) may name users of several connections.
  const usersByIdentifier = async (identifier: string) => {
    const connections = await store.connections.list({}, { offset: 0, limit: 1000 });
    const found = await Promise.all(connections.map((c) => store.users.findByLogin(c.name, identifier)));
    return found.filter((u): u is User => u !== undefined);
  };

  app.get(
    '/user-blocks/:id',
    { schema: { params: IdParams, response: { 200: BlocksView } }, preHandler: requireScope('read:users') },
    async (req) => blocksOf([await userOrFail(req.params.id)]),
  );

  app.get(
    '/user-blocks',
    {
      schema: { querystring: IdentifierQuery, response: { 200: BlocksView } },
      preHandler: requireScope('read:users'),
    },
    async (req) => blocksOf(await usersByIdentifier(req.query.identifier)),
  );

  app.delete(
    '/user-blocks/:id',
    { schema: { params: IdParams }, preHandler: requireScope('update:users') },
    async (req, reply) => {
      await store.loginFailures.clear((await userOrFail(req.params.id)).userId);
      return reply.status(204).send();
    },
  );

  app.delete(
    '/user-blocks',
    { schema: { querystring: IdentifierQuery }, preHandler: requireScope('update:users') },
    async (req, reply) => {
      for (const user of await usersByIdentifier(req.query.identifier))
        await store.loginFailures.clear(user.userId);
      return reply.status(204).send();
    },
  );
};
