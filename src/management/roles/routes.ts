import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Deps } from '../../server/deps.js';
import { requireScope, requireScopeSet } from '../auth.js';
import { checkpointPage, isCheckpointRequest, listView, offsetListBody, toPage } from '../pagination.js';
import {
  IdParams,
  PagedQuery,
  PermissionsBody,
  PermissionView,
  RoleBody,
  RoleListQuery,
  RolesBody,
  RoleUpdate,
  RoleUserListView,
  RoleUsersQuery,
  RoleView,
  UserPermissionView,
  UsersBody,
  toRoleUserView,
  toRoleView,
} from './schemas.js';
import { createRoleService } from './service.js';

/** /roles and the role/permission sub-resources of /users (spec 4.4, 4.8). */
export const roleRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const service = createRoleService(deps);

  app.get(
    '/roles',
    {
      schema: { querystring: RoleListQuery, response: { 200: listView('roles', RoleView) } },
      preHandler: requireScope('read:roles'),
    },
    async (req) => {
      const q = req.query;
      const { items, total } = await service.list(
        { nameFilter: q.name_filter, type: q.type, ownerId: q.owner_id },
        toPage(q),
      );
      return offsetListBody('roles', items.map(toRoleView), q, total);
    },
  );
  app.post(
    '/roles',
    { schema: { body: RoleBody, response: { 200: RoleView } }, preHandler: requireScope('create:roles') },
    async (req) => toRoleView(await service.create(req.body)),
  );
  app.get(
    '/roles/:id',
    { schema: { params: IdParams, response: { 200: RoleView } }, preHandler: requireScope('read:roles') },
    async (req) => toRoleView(await service.get(req.params.id)),
  );
  app.patch(
    '/roles/:id',
    {
      schema: { params: IdParams, body: RoleUpdate, response: { 200: RoleView } },
      preHandler: requireScope('update:roles'),
    },
    async (req) => toRoleView(await service.update(req.params.id, req.body)),
  );
  app.delete(
    '/roles/:id',
    { schema: { params: IdParams }, preHandler: requireScope('delete:roles') },
    async (req, reply) => {
      await service.remove(req.params.id);
      return reply.status(204).send();
    },
  );

  app.get(
    '/roles/:id/permissions',
    {
      schema: {
        params: IdParams,
        querystring: PagedQuery,
        response: { 200: listView('permissions', PermissionView) },
      },
      preHandler: requireScope('read:roles'),
    },
    async (req) => {
      const all = await service.rolePermissions(req.params.id);
      const { offset, limit } = toPage(req.query);
      return offsetListBody('permissions', all.slice(offset, offset + limit), req.query, all.length);
    },
  );
  app.post(
    '/roles/:id/permissions',
    { schema: { params: IdParams, body: PermissionsBody }, preHandler: requireScope('update:roles') },
    async (req, reply) => {
      await service.addRolePermissions(req.params.id, req.body.permissions);
      return reply.status(201).send();
    },
  );
  app.delete(
    '/roles/:id/permissions',
    { schema: { params: IdParams, body: PermissionsBody }, preHandler: requireScope('update:roles') },
    async (req, reply) => {
      await service.removeRolePermissions(req.params.id, req.body.permissions);
      return reply.status(204).send();
    },
  );
  app.get(
    '/roles/:id/users',
    {
      schema: { params: IdParams, querystring: RoleUsersQuery, response: { 200: RoleUserListView } },
      // Spec 4.3: read:role_members, or read:users together with read:roles.
      preHandler: requireScopeSet(['read:role_members'], ['read:users', 'read:roles']),
    },
    async (req) => {
      const q = req.query;
      if (isCheckpointRequest(q)) {
        return checkpointPage(
          'users',
          q,
          async (after, limit) =>
            (await service.roleUsersAfter(req.params.id, after, limit)).map((u) => ({
              id: u.userId,
              user: u,
            })),
          (row) => toRoleUserView(row.user),
        );
      }
      const { items, total } = await service.roleUsers(req.params.id, toPage(q));
      return offsetListBody('users', items.map(toRoleUserView), q, total);
    },
  );
  app.post(
    '/roles/:id/users',
    {
      schema: { params: IdParams, body: UsersBody },
      preHandler: requireScope('update:roles', 'create:role_members'),
    },
    async (req, reply) => {
      await service.assignUsersToRole(req.params.id, req.body.users);
      return reply.status(201).send();
    },
  );

  app.get(
    '/users/:id/roles',
    {
      schema: { params: IdParams, querystring: PagedQuery, response: { 200: listView('roles', RoleView) } },
      preHandler: requireScope('read:users', 'read:roles', 'read:role_members'),
    },
    async (req) => {
      const all = (await service.userRoles(req.params.id)).map(toRoleView);
      const { offset, limit } = toPage(req.query);
      return offsetListBody('roles', all.slice(offset, offset + limit), req.query, all.length);
    },
  );
  app.post(
    '/users/:id/roles',
    {
      schema: { params: IdParams, body: RolesBody },
      preHandler: requireScope('update:users', 'create:role_members'),
    },
    async (req, reply) => {
      await service.assignRoles(req.params.id, req.body.roles);
      return reply.status(204).send();
    },
  );
  app.delete(
    '/users/:id/roles',
    {
      schema: { params: IdParams, body: RolesBody },
      preHandler: requireScope('update:users', 'delete:role_members'),
    },
    async (req, reply) => {
      await service.unassignRoles(req.params.id, req.body.roles);
      return reply.status(204).send();
    },
  );
  app.get(
    '/users/:id/permissions',
    {
      schema: {
        params: IdParams,
        querystring: PagedQuery,
        response: { 200: listView('permissions', UserPermissionView) },
      },
      preHandler: requireScope('read:users'),
    },
    async (req) => {
      const { items, total } = await service.userPermissions(req.params.id, toPage(req.query));
      return offsetListBody('permissions', items, req.query, total);
    },
  );
  app.post(
    '/users/:id/permissions',
    { schema: { params: IdParams, body: PermissionsBody }, preHandler: requireScope('update:users') },
    async (req, reply) => {
      await service.addUserPermissions(req.params.id, req.body.permissions);
      return reply.status(201).send();
    },
  );
  app.delete(
    '/users/:id/permissions',
    { schema: { params: IdParams, body: PermissionsBody }, preHandler: requireScope('update:users') },
    async (req, reply) => {
      await service.removeUserPermissions(req.params.id, req.body.permissions);
      return reply.status(204).send();
    },
  );
};
