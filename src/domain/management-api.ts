/**
 * The only Management API scopes a user-delegated token can carry (seed 003): they act on the token's
 * own user. Any-user scopes come from client credentials alone.
 */
export const CURRENT_USER_SCOPES = [
  'read:current_user',
  'update:current_user_identities',
  'update:current_user_metadata',
  'create:current_user_metadata',
  'delete:current_user_metadata',
  'create:current_user_device_credentials',
  'delete:current_user_device_credentials',
  'delete:current_user',
] as const;

export function managementAudience(issuer: string): string {
  return `${issuer}api/v2/`;
}
