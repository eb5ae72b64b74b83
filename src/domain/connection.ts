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

/**
 * A fresh tenant's default directory: the recommended configuration of the README (OWASP ASVS 4.0 level 2:
 * 12 characters or more, no composition rules, common passwords refused), plus no personal data.
 */
export const DEFAULT_DIRECTORY_OPTIONS: Readonly<Record<string, unknown>> = {
  passwordPolicy: 'low',
  password_complexity_options: { min_length: 12 },
  password_dictionary: { enable: true, dictionary: [] },
  password_no_personal_info: { enable: true },
  brute_force_protection: true,
  requires_username: false,
};
