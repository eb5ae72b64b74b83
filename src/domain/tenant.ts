export interface Tenant {
  readonly id: string;
  /** Auth0 tenant settings as sent through PATCH /tenants/settings. */
  readonly settings: Readonly<Record<string, unknown>>;
  /** The machine-to-machine client applied from configuration at each start. */
  readonly bootstrapClientId: string | undefined;
}

export const DEFAULT_TENANT_ID = 'default';
export const DEFAULT_CONNECTION_NAME = 'Username-Password-Authentication';
