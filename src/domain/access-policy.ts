/** Seed 002's per-API policies, shared by storage, the policy engine and the Management API. */
export type UserPolicy = 'allow_all' | 'require_client_grant' | 'deny_all';
export type ClientPolicy = 'require_client_grant' | 'deny_all';
export type SubjectType = 'client' | 'user';
