export interface Connection {
  readonly tenantId: string;
  readonly id: string;
  readonly name: string;
  readonly strategy: string;
  readonly options: Readonly<Record<string, unknown>>;
  readonly enabledClients: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** A new database connection's options, as Auth0 creates them. */
export const DEFAULT_CONNECTION_OPTIONS: Readonly<Record<string, unknown>> = {
  passwordPolicy: 'good',
  brute_force_protection: true,
  requires_username: false,
};
