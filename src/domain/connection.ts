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
