export interface Role {
  readonly tenantId: string;
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly createdAt: string;
}

export interface Permission {
  readonly resourceServerIdentifier: string;
  readonly permissionName: string;
}

/** Where a user's permission comes from: assigned directly, or through one of the user's roles. */
export type PermissionSource =
  { readonly type: 'DIRECT' } | { readonly type: 'ROLE'; readonly roleId: string; readonly roleName: string };

export interface SourcedPermission extends Permission {
  readonly sources: readonly PermissionSource[];
}
