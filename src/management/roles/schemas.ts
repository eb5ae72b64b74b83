import { Type, type Static } from 'typebox';
import type { Role } from '../../domain/role.js';
import type { User } from '../../domain/user.js';
import { CheckpointQuery, PageQuery, listView } from '../pagination.js';

const RoleType = Type.Union([Type.Literal('tenant'), Type.Literal('organization')]);
export const RoleBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 50 }),
    description: Type.Optional(Type.String({ maxLength: 140 })),
    type: Type.Optional(RoleType),
    owner_id: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
  },
  { additionalProperties: false },
);
export const RoleUpdate = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
    description: Type.Optional(Type.String({ maxLength: 140 })),
  },
  { additionalProperties: false },
);
export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 300 }) });
/** Auth0 docs, GET /api/v2/roles: name_filter is case-insensitive; type and owner_id select organization roles. */
export const RoleListQuery = Type.Object(
  {
    ...PageQuery,
    name_filter: Type.Optional(Type.String({ maxLength: 50 })),
    type: Type.Optional(RoleType),
    owner_id: Type.Optional(Type.String({ maxLength: 50 })),
  },
  { additionalProperties: false },
);
export const PagedQuery = Type.Object(PageQuery, { additionalProperties: false });
/** Spec 4.1/4.8: role members page by offset or by checkpoint. */
export const RoleUsersQuery = Type.Object(
  { ...PageQuery, ...CheckpointQuery },
  { additionalProperties: false },
);

const PermissionRef = Type.Object(
  {
    resource_server_identifier: Type.String({ minLength: 1, maxLength: 600 }),
    permission_name: Type.String({ minLength: 1, maxLength: 280 }),
  },
  { additionalProperties: false },
);
export const PermissionsBody = Type.Object(
  { permissions: Type.Array(PermissionRef, { minItems: 1, maxItems: 1000 }) },
  { additionalProperties: false },
);
export type PermissionsBody = Static<typeof PermissionsBody>;
export const RolesBody = Type.Object(
  { roles: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 1000 }) },
  { additionalProperties: false },
);
export const UsersBody = Type.Object(
  { users: Type.Array(Type.String({ minLength: 1, maxLength: 300 }), { minItems: 1, maxItems: 1000 }) },
  { additionalProperties: false },
);

export const RoleView = Type.Object({ id: Type.String(), name: Type.String(), description: Type.String() });
export const PermissionView = Type.Object({
  resource_server_identifier: Type.String(),
  permission_name: Type.String(),
  resource_server_name: Type.String(),
  description: Type.String(),
});
export type PermissionView = Static<typeof PermissionView>;
/** Auth0's user permission: the role permission's fields plus where it comes from (the Dashboard's "Assignment"). */
export const UserPermissionView = Type.Object({
  permission_name: Type.String(),
  description: Type.String(),
  resource_server_name: Type.String(),
  resource_server_identifier: Type.String(),
  sources: Type.Array(
    Type.Object({
      source_id: Type.String(),
      source_name: Type.String(),
      source_type: Type.Union([Type.Literal('DIRECT'), Type.Literal('ROLE')]),
    }),
  ),
});
export type UserPermissionView = Static<typeof UserPermissionView>;
const RoleUserView = Type.Object({
  user_id: Type.String(),
  email: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  picture: Type.Optional(Type.String()),
});

export type RoleUserView = Static<typeof RoleUserView>;
export const RoleUserListView = listView('users', RoleUserView, { checkpoint: true });

export function toRoleUserView(u: User): RoleUserView {
  return {
    user_id: u.userId,
    ...(u.email ? { email: u.email } : {}),
    ...(u.name ? { name: u.name } : {}),
    ...(u.picture ? { picture: u.picture } : {}),
  };
}

export const toRoleView = (r: Role) => ({ id: r.id, name: r.name, description: r.description });
