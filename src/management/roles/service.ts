import type { Permission, Role, SourcedPermission } from '../../domain/role.js';
import { BadRequest, Conflict, NotFound } from '../../errors/api.js';
import type { Deps } from '../../server/deps.js';
import { isUniqueViolation } from '../../storage/json.js';
import type { Repositories } from '../../storage/repositories/index.js';
import type { PermissionView, UserPermissionView } from './schemas.js';

const roleNotFound = () => new NotFound('inexistent_role', 'The role does not exist.');
const userNotFound = () => new NotFound('inexistent_user', 'The user does not exist.');

type RoleType = 'tenant' | 'organization';
type PermissionRefs = readonly { resource_server_identifier: string; permission_name: string }[];

export function createRoleService(deps: Deps) {
  const { store } = deps;
  const now = () => new Date(deps.clock.now()).toISOString();

  async function role(id: string, repos: Repositories = store): Promise<Role> {
    const r = await repos.roles.findById(id);
    if (!r) throw roleNotFound();
    return r;
  }
  async function assertUser(id: string): Promise<void> {
    if (!(await store.users.findById(id))) throw userNotFound();
  }

  /** Permissions must name an existing API and one of its scopes. */
  async function validate(refs: PermissionRefs): Promise<Permission[]> {
    const out: Permission[] = [];
    for (const ref of refs) {
      const api = await store.resourceServers.findByIdentifier(ref.resource_server_identifier);
      if (!api)
        throw new BadRequest(
          'invalid_body',
          `Payload validation error: resource server ${ref.resource_server_identifier} does not exist.`,
        );
      if (!api.scopes.some((s) => s.value === ref.permission_name)) {
        throw new BadRequest(
          'invalid_body',
          `Payload validation error: ${ref.permission_name} is not a scope of ${ref.resource_server_identifier}.`,
        );
      }
      out.push({
        resourceServerIdentifier: ref.resource_server_identifier,
        permissionName: ref.permission_name,
      });
    }
    return out;
  }

  async function describe(perms: readonly Permission[]): Promise<PermissionView[]> {
    const views: PermissionView[] = [];
    for (const p of perms) {
      const api = await store.resourceServers.findByIdentifier(p.resourceServerIdentifier);
      views.push({
        resource_server_identifier: p.resourceServerIdentifier,
        permission_name: p.permissionName,
        resource_server_name: api?.name ?? p.resourceServerIdentifier,
        description: api?.scopes.find((s) => s.value === p.permissionName)?.description ?? '',
      });
    }
    return views;
  }

  /** Names and descriptions come from the page's APIs, read in one query. */
  async function describeSourced(perms: readonly SourcedPermission[]): Promise<UserPermissionView[]> {
    const identifiers = [...new Set(perms.map((p) => p.resourceServerIdentifier))];
    const apis =
      identifiers.length === 0
        ? []
        : await store.resourceServers.list({ offset: 0, limit: identifiers.length }, identifiers);
    const byIdentifier = new Map(apis.map((api) => [api.identifier, api]));
    return perms.map((p) => {
      const api = byIdentifier.get(p.resourceServerIdentifier);
      return {
        permission_name: p.permissionName,
        description: api?.scopes.find((s) => s.value === p.permissionName)?.description ?? '',
        resource_server_name: api?.name ?? p.resourceServerIdentifier,
        resource_server_identifier: p.resourceServerIdentifier,
        // Auth0 sends empty source_id and source_name for a direct assignment.
        sources: p.sources.map((s) =>
          s.type === 'DIRECT'
            ? { source_id: '', source_name: '', source_type: 'DIRECT' as const }
            : { source_id: s.roleId, source_name: s.roleName, source_type: 'ROLE' as const },
        ),
      };
    });
  }

  const conflict = () => new Conflict('conflict', 'A role with the same name already exists.');

  return {
    get: role,
    async list(
      filter: { nameFilter?: string | undefined; type?: RoleType | undefined; ownerId?: string | undefined },
      page: { offset: number; limit: number },
    ): Promise<{ items: Role[]; total: number }> {
      if (filter.type === 'organization' && filter.ownerId === undefined) {
        throw new BadRequest(
          'invalid_query_string',
          'Query validation error: owner_id is required when type is organization.',
        );
      }
      // Auth0 compat: Latchkey has tenant roles only; organization roles (type/owner_id) never match.
      if (filter.type === 'organization' || filter.ownerId !== undefined) return { items: [], total: 0 };
      return store.roles.list(filter.nameFilter, page);
    },
    async create(body: {
      name: string;
      description?: string | undefined;
      type?: RoleType | undefined;
      owner_id?: string | undefined;
    }): Promise<Role> {
      if (body.type === 'organization' || body.owner_id !== undefined) {
        throw new BadRequest(
          'operation_not_supported',
          'Latchkey has no organizations: roles can only be tenant roles.',
        );
      }
      const r: Role = {
        tenantId: deps.tenantId,
        id: deps.ids.prefixed('rol'),
        name: body.name,
        description: body.description ?? '',
        createdAt: now(),
      };
      try {
        await store.roles.insert(r);
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict();
        throw error;
      }
      return r;
    },
    async update(
      id: string,
      body: { name?: string | undefined; description?: string | undefined },
    ): Promise<Role> {
      try {
        return await store.transaction(async (repos) => {
          await repos.tenants.lock();
          const current = await role(id, repos);
          const updated: Role = {
            ...current,
            name: body.name ?? current.name,
            description: body.description ?? current.description,
          };
          await repos.roles.update(updated);
          return updated;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict();
        throw error;
      }
    },
    async remove(id: string): Promise<void> {
      if (!(await store.roles.delete(id))) throw roleNotFound();
    },

    async rolePermissions(id: string): Promise<PermissionView[]> {
      await role(id);
      return describe(await store.roles.rolePermissions(id));
    },
    async addRolePermissions(id: string, refs: PermissionRefs): Promise<void> {
      await role(id);
      const perms = await validate(refs);
      await store.transaction((repos) => repos.roles.addRolePermissions(id, perms));
    },
    async removeRolePermissions(id: string, refs: PermissionRefs): Promise<void> {
      await role(id);
      const perms = refs.map((r) => ({
        resourceServerIdentifier: r.resource_server_identifier,
        permissionName: r.permission_name,
      }));
      await store.transaction((repos) => repos.roles.removeRolePermissions(id, perms));
    },
    async roleUsers(id: string, page: { offset: number; limit: number }) {
      await role(id);
      const [ids, total] = await Promise.all([
        store.roles.roleUsers(id, page),
        store.roles.countRoleUsers(id),
      ]);
      return { items: await store.users.findByIds(ids), total };
    },
    /** Checkpoint paging (spec 4.1): up to `limit` users after the user id `afterId`. */
    async roleUsersAfter(id: string, afterId: string | undefined, limit: number) {
      await role(id);
      return store.users.findByIds(await store.roles.roleUsers(id, { offset: 0, limit }, afterId));
    },
    async assignUsersToRole(id: string, userIds: readonly string[]): Promise<void> {
      await role(id);
      for (const u of userIds) await assertUser(u);
      await store.transaction(async (repos) => {
        for (const u of userIds) await repos.roles.assignRoles(u, [id], now());
      });
    },

    async userRoles(userId: string): Promise<Role[]> {
      await assertUser(userId);
      return store.roles.userRoles(userId);
    },
    async assignRoles(userId: string, roleIds: readonly string[]): Promise<void> {
      await assertUser(userId);
      for (const r of roleIds) await role(r);
      await store.transaction((repos) => repos.roles.assignRoles(userId, roleIds, now()));
    },
    async unassignRoles(userId: string, roleIds: readonly string[]): Promise<void> {
      await assertUser(userId);
      await store.transaction((repos) => repos.roles.unassignRoles(userId, roleIds));
    },
    async userPermissions(
      userId: string,
      page: { offset: number; limit: number },
    ): Promise<{ items: UserPermissionView[]; total: number }> {
      await assertUser(userId);
      const { items, total } = await store.roles.userPermissions(userId, page);
      return { items: await describeSourced(items), total };
    },
    async addUserPermissions(userId: string, refs: PermissionRefs): Promise<void> {
      await assertUser(userId);
      const perms = await validate(refs);
      await store.transaction((repos) => repos.roles.addUserPermissions(userId, perms));
    },
    async removeUserPermissions(userId: string, refs: PermissionRefs): Promise<void> {
      await assertUser(userId);
      const perms = refs.map((r) => ({
        resourceServerIdentifier: r.resource_server_identifier,
        permissionName: r.permission_name,
      }));
      await store.transaction((repos) => repos.roles.removeUserPermissions(userId, perms));
    },
  };
}
