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
