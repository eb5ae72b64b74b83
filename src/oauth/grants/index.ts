import { clientCredentials } from './client-credentials.js';
import type { GrantHandler } from './types.js';

/** Every grant type the token endpoint dispatches to, by `grant_type`. */
export const GRANTS: ReadonlyMap<string, GrantHandler> = new Map(
  [clientCredentials].map((g) => [g.grantType, g]),
);
