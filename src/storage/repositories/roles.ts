import { sql, type SelectQueryBuilder, type SqlBool } from 'kysely';
import type { DbOrTx, DialectName } from '../db.js';
import type { Database } from '../schema.js';
import type { Permission, PermissionSource, Role, SourcedPermission } from '../../domain/role.js';
import type { Page } from './resource-servers.js';

/** `%text%` for LIKE escaping with a backslash, so `%`, `_` and a backslash match themselves. */
function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, '\\$&')}%`;
}

const foldAsciiCase = (text: string) => text.replace(/[A-Z]/g, (c) => c.toLowerCase());

export function createRoleRepository(db: DbOrTx, tenantId: string, dialect: DialectName) {
  // Both engines fold ASCII letters only: SQLite's lower() folds nothing else, and PostgreSQL's would follow
  // the database locale, so it runs under the "C" collation.
  const foldedName = dialect === 'postgres' ? sql`lower(name collate "C")` : sql`lower(name)`;
  const nameContains = (filter: string) =>
    sql<SqlBool>`${foldedName} like ${containsPattern(foldAsciiCase(filter))} escape '\\'`;
  const toRole = (row: {
    tenant_id: string;
    id: string;
    name: string;
    description: string;
    created_at: string;
  }): Role => ({
    tenantId: row.tenant_id,
    id: row.id,
    name: row.name,
    description: row.description,
    createdAt: row.created_at,
  });
  const toPermission = (row: {
    resource_server_identifier: string;
    permission_name: string;
  }): Permission => ({
    resourceServerIdentifier: row.resource_server_identifier,
    permissionName: row.permission_name,
  });
  const roles = () => db.selectFrom('roles').selectAll().where('tenant_id', '=', tenantId);

  return {
    async findById(id: string): Promise<Role | undefined> {
      const row = await roles().where('id', '=', id).executeTakeFirst();
      return row && toRole(row);
    },
    /** Roles whose name contains `nameFilter` (ASCII case ignored), from `page`, with the total. */
    async list(nameFilter: string | undefined, page: Page): Promise<{ items: Role[]; total: number }> {
      const named = <O>(q: SelectQueryBuilder<Database, 'roles', O>) =>
        nameFilter === undefined ? q : q.where(nameContains(nameFilter));
      // The same order on both engines: by name ignoring ASCII case, not by a database collation.
      const rows = await named(roles())
        .orderBy(foldedName)
        .orderBy('id')
        .limit(page.limit)
        .offset(page.offset)
        .execute();
      const count = await named(
        db
          .selectFrom('roles')
          .select((eb) => eb.fn.countAll<number | string>().as('n'))
          .where('tenant_id', '=', tenantId),
      ).executeTakeFirstOrThrow();
      return { items: rows.map(toRole), total: Number(count.n) };
    },
    /** @throws the driver's unique violation for a duplicate name. */
    async insert(role: Role): Promise<void> {
      await db
        .insertInto('roles')
        .values({
          tenant_id: tenantId,
          id: role.id,
          name: role.name,
          description: role.description,
          created_at: role.createdAt,
        })
        .execute();
    },
    async update(role: Role): Promise<void> {
      await db
        .updateTable('roles')
        .set({ name: role.name, description: role.description })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', role.id)
        .execute();
    },
    async delete(id: string): Promise<boolean> {
      const r = await db
        .deleteFrom('roles')
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return r.numDeletedRows > 0n;
    },

    async rolePermissions(roleId: string): Promise<Permission[]> {
      const rows = await db
        .selectFrom('role_permissions')
        .select(['resource_server_identifier', 'permission_name'])
        .where('tenant_id', '=', tenantId)
        .where('role_id', '=', roleId)
        .orderBy('resource_server_identifier')
        .orderBy('permission_name')
        .execute();
      return rows.map(toPermission);
    },
    async addRolePermissions(roleId: string, permissions: readonly Permission[]): Promise<void> {
      for (const p of permissions) {
        await db
          .insertInto('role_permissions')
          .values({
            tenant_id: tenantId,
            role_id: roleId,
            resource_server_identifier: p.resourceServerIdentifier,
            permission_name: p.permissionName,
          })
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
    },
    async removeRolePermissions(roleId: string, permissions: readonly Permission[]): Promise<void> {
      for (const p of permissions) {
        await db
          .deleteFrom('role_permissions')
          .where('tenant_id', '=', tenantId)
          .where('role_id', '=', roleId)
          .where('resource_server_identifier', '=', p.resourceServerIdentifier)
          .where('permission_name', '=', p.permissionName)
          .execute();
      }
    },

    async userRoles(userId: string): Promise<Role[]> {
      const rows = await db
        .selectFrom('user_roles')
        .innerJoin('roles', (j) =>
          j
            .onRef('roles.tenant_id', '=', 'user_roles.tenant_id')
            .onRef('roles.id', '=', 'user_roles.role_id'),
        )
        .select(['roles.tenant_id', 'roles.id', 'roles.name', 'roles.description', 'roles.created_at'])
        .where('user_roles.tenant_id', '=', tenantId)
        .where('user_roles.user_id', '=', userId)
        .orderBy('roles.name')
        .execute();
      return rows.map(toRole);
    },
    async assignRoles(userId: string, roleIds: readonly string[], now: string): Promise<void> {
      for (const roleId of roleIds) {
        await db
          .insertInto('user_roles')
          .values({ tenant_id: tenantId, user_id: userId, role_id: roleId, created_at: now })
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
    },
    async unassignRoles(userId: string, roleIds: readonly string[]): Promise<void> {
      if (roleIds.length === 0) return;
      await db
        .deleteFrom('user_roles')
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', userId)
        .where('role_id', 'in', roleIds)
        .execute();
    },
    /** Ids of the role's users in user_id order, from `page`, or after `afterId` (checkpoint paging). */
    async roleUsers(roleId: string, page: Page, afterId?: string): Promise<string[]> {
      let q = db
        .selectFrom('user_roles')
        .select('user_id')
        .where('tenant_id', '=', tenantId)
        .where('role_id', '=', roleId);
      if (afterId !== undefined) q = q.where('user_id', '>', afterId);
      const rows = await q.orderBy('user_id').limit(page.limit).offset(page.offset).execute();
      return rows.map((r) => r.user_id);
    },
    async countRoleUsers(roleId: string): Promise<number> {
      const row = await db
        .selectFrom('user_roles')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('tenant_id', '=', tenantId)
        .where('role_id', '=', roleId)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    /**
     * One page of the user's permissions, direct and through roles, each once with every source, ordered by
     * API identifier then permission name; `total` counts distinct permissions.
     */
    async userPermissions(
      userId: string,
      page: Page,
    ): Promise<{ items: SourcedPermission[]; total: number }> {
      const direct = db
        .selectFrom('user_permissions')
        .select([
          'resource_server_identifier as api',
          'permission_name as name',
          sql<string>`'DIRECT'`.as('source_type'),
          sql<string>`''`.as('role_id'),
          sql<string>`''`.as('role_name'),
        ])
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', userId);
      const viaRoles = db
        .selectFrom('user_roles')
        .innerJoin('role_permissions', (j) =>
          j
            .onRef('role_permissions.role_id', '=', 'user_roles.role_id')
            .onRef('role_permissions.tenant_id', '=', 'user_roles.tenant_id'),
        )
        .innerJoin('roles', (j) =>
          j
            .onRef('roles.id', '=', 'user_roles.role_id')
            .onRef('roles.tenant_id', '=', 'user_roles.tenant_id'),
        )
        .select([
          'role_permissions.resource_server_identifier as api',
          'role_permissions.permission_name as name',
          sql<string>`'ROLE'`.as('source_type'),
          'roles.id as role_id',
          'roles.name as role_name',
        ])
        .where('user_roles.tenant_id', '=', tenantId)
        .where('user_roles.user_id', '=', userId);
      const withSources = db.with('sources', () => direct.unionAll(viaRoles));
      const rows = await withSources
        .with('page', (qb) =>
          qb
            .selectFrom('sources')
            .select(['api', 'name'])
            .distinct()
            .orderBy('api')
            .orderBy('name')
            .limit(page.limit)
            .offset(page.offset),
        )
        .selectFrom('page')
        .innerJoin('sources', (j) =>
          j.onRef('sources.api', '=', 'page.api').onRef('sources.name', '=', 'page.name'),
        )
        .select(['page.api', 'page.name', 'sources.source_type', 'sources.role_id', 'sources.role_name'])
        .orderBy('page.api')
        .orderBy('page.name')
        .orderBy('sources.source_type')
        .orderBy('sources.role_name')
        .orderBy('sources.role_id')
        .execute();
      const counted = await withSources
        .selectFrom((qb) => qb.selectFrom('sources').select(['api', 'name']).distinct().as('granted'))
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .executeTakeFirstOrThrow();
      const items: (Permission & { sources: PermissionSource[] })[] = [];
      for (const row of rows) {
        const source: PermissionSource =
          row.source_type === 'DIRECT'
            ? { type: 'DIRECT' }
            : { type: 'ROLE', roleId: row.role_id, roleName: row.role_name };
        const last = items.at(-1);
        if (last?.resourceServerIdentifier === row.api && last.permissionName === row.name) {
          last.sources.push(source);
        } else {
          items.push({ resourceServerIdentifier: row.api, permissionName: row.name, sources: [source] });
        }
      }
      return { items, total: Number(counted.n) };
    },
    async addUserPermissions(userId: string, permissions: readonly Permission[]): Promise<void> {
      for (const p of permissions) {
        await db
          .insertInto('user_permissions')
          .values({
            tenant_id: tenantId,
            user_id: userId,
            resource_server_identifier: p.resourceServerIdentifier,
            permission_name: p.permissionName,
          })
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
    },
    async removeUserPermissions(userId: string, permissions: readonly Permission[]): Promise<void> {
      for (const p of permissions) {
        await db
          .deleteFrom('user_permissions')
          .where('tenant_id', '=', tenantId)
          .where('user_id', '=', userId)
          .where('resource_server_identifier', '=', p.resourceServerIdentifier)
          .where('permission_name', '=', p.permissionName)
          .execute();
      }
    },

    /** Removes every role and user permission on one API (the API is being deleted). */
    async deletePermissionsOf(resourceServerIdentifier: string): Promise<void> {
      await db
        .deleteFrom('role_permissions')
        .where('tenant_id', '=', tenantId)
        .where('resource_server_identifier', '=', resourceServerIdentifier)
        .execute();
      await db
        .deleteFrom('user_permissions')
        .where('tenant_id', '=', tenantId)
        .where('resource_server_identifier', '=', resourceServerIdentifier)
        .execute();
    },

    /** The user's permission names on one API: direct ones and those of every assigned role. */
    async effectivePermissions(userId: string, audience: string): Promise<string[]> {
      const direct = db
        .selectFrom('user_permissions')
        .select('permission_name')
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', userId)
        .where('resource_server_identifier', '=', audience);
      const viaRoles = db
        .selectFrom('user_roles')
        .innerJoin('role_permissions', (j) =>
          j
            .onRef('role_permissions.tenant_id', '=', 'user_roles.tenant_id')
            .onRef('role_permissions.role_id', '=', 'user_roles.role_id'),
        )
        .select('role_permissions.permission_name')
        .where('user_roles.tenant_id', '=', tenantId)
        .where('user_roles.user_id', '=', userId)
        .where('role_permissions.resource_server_identifier', '=', audience);
      const rows = await direct.union(viaRoles).execute();
      return rows.map((r) => r.permission_name);
    },
  };
}
export type RoleRepository = ReturnType<typeof createRoleRepository>;
