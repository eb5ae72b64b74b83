/** Scopes of the My Account API (spec 3.1), created when the API is activated. */
export const MY_ACCOUNT_SCOPES = [
  'create:me:authentication_methods',
  'read:me:authentication_methods',
  'update:me:authentication_methods',
  'delete:me:authentication_methods',
  'read:me:factors',
  'create:me:connected_accounts',
  'read:me:connected_accounts',
  'delete:me:connected_accounts',
  'read:me:consents',
  'read:me:organizations',
] as const;

export const MY_ACCOUNT_API_NAME = 'Auth0 My Account API';

export function myAccountAudience(issuer: string): string {
  return `${issuer}me/`;
}
