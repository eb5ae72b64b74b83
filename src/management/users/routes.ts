import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Forbidden } from '../../errors/api.js';
import type { Deps } from '../../server/deps.js';
import { requireScope, requireUserScope } from '../auth.js';
import { selectFields, toPage } from '../pagination.js';
import { createAccountLinking, linkTarget } from './account-linking.js';
import {
  IdentitiesView,
  IdentityParams,
  LinkBody,
  toIdentityView,
  UserCreate,
  UserListQuery,
  UserListView,
  UserParams,
  UsersByEmailQuery,
  UserUpdate,
  UserView,
  toUserView,
} from './schemas.js';
import { createUserService } from './service.js';

const FieldsOnly = Type.Object(
  { fields: Type.Optional(Type.String({ maxLength: 2000 })), include_fields: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
/** What a current-user token may change on its own profile (seed 003). */
const CURRENT_USER_PATCHABLE = new Set(['user_metadata']);

export const userRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const service = createUserService(deps);
  const linking = createAccountLinking(deps);

  app.get(
    '/users',
    {
      schema: { querystring: UserListQuery, response: { 200: UserListView } },
      preHandler: requireScope('read:users'),
    },
    async (req) => {
      const q = req.query;
      const page = toPage(q);
      const { items, total } = await service.list({ q: q.q, sort: q.sort, connection: q.connection }, page);
      const users = items.map((u) => selectFields(toUserView(u), q));
      return q.include_totals === true
        ? { start: page.offset, limit: page.limit, length: users.length, total, users }
        : users;
    },
  );

  app.post(
    '/users',
    { schema: { body: UserCreate, response: { 201: UserView } }, preHandler: requireScope('create:users') },
    async (req, reply) => reply.status(201).send(toUserView(await service.create(req.body))),
  );

  app.get(
    '/users/:id',
    {
      schema: { params: UserParams, querystring: FieldsOnly, response: { 200: UserView } },
      preHandler: requireUserScope(['read:users'], ['read:current_user']),
    },
    async (req) => selectFields(toUserView(await service.get(req.params.id)), req.query),
  );

  app.patch(
    '/users/:id',
    {
      schema: { params: UserParams, body: UserUpdate, response: { 200: UserView } },
      preHandler: [
        requireUserScope(
          ['update:users', 'update:users_app_metadata'],
          ['update:current_user_metadata', 'create:current_user_metadata'],
        ),
        async (req) => {
          const auth = req.auth;
          const fields = Object.keys(req.body);
          if (auth?.currentUserOnly === true && fields.some((f) => !CURRENT_USER_PATCHABLE.has(f))) {
            throw new Forbidden('insufficient_scope', 'A current-user token may only change user_metadata.');
          }
          // update:users_app_metadata alone reaches metadata only.
          if (
            auth?.scopes.has('update:users') !== true &&
            auth?.currentUserOnly !== true &&
            fields.some((f) => f !== 'app_metadata' && f !== 'user_metadata')
          ) {
            throw new Forbidden('insufficient_scope', 'Insufficient scope, expected any of: update:users');
          }
        },
      ],
    },
    async (req) => toUserView(await service.update(req.params.id, req.body)),
  );

  app.delete(
    '/users/:id',
    {
      schema: { params: UserParams },
      preHandler: requireUserScope(['delete:users'], ['delete:current_user']),
    },
    async (req, reply) => {
      await service.remove(req.params.id);
      return reply.status(204).send();
    },
  );

  app.post(
    '/users/:id/identities',
    {
      schema: { params: UserParams, body: LinkBody, response: { 201: IdentitiesView } },
      preHandler: requireUserScope(['update:users'], ['update:current_user_identities']),
    },
    async (req, reply) => {
      const { id } = req.params;
      const identities = await linking.link(id, linkTarget(req.body, req.auth));
      return reply.status(201).send(identities.map((i) => toIdentityView({ userId: id }, i)));
    },
  );

  app.delete(
    '/users/:id/identities/:provider/:user_id',
    {
      schema: { params: IdentityParams, response: { 200: IdentitiesView } },
      preHandler: requireUserScope(['update:users'], ['update:current_user_identities']),
    },
    async (req) => {
      const { id, provider, user_id: userId } = req.params;
      const identities = await linking.unlink(id, provider, userId);
      return identities.map((i) => toIdentityView({ userId: id }, i));
    },
  );

  app.get(
    '/users-by-email',
    {
      schema: { querystring: UsersByEmailQuery, response: { 200: Type.Array(UserView) } },
      preHandler: requireScope('read:users'),
    },
    async (req) =>
      (await service.byEmail(req.query.email)).map((u) => selectFields(toUserView(u), req.query)),
  );
};
