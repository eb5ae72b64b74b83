import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../../src/domain/user.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { jwtPayload } from '../../helpers/http.js';

type Policy = 'allow_all' | 'require_client_grant' | 'deny_all';
type Party = 'first' | 'third';
type GrantKind = 'none' | 'own' | 'default' | 'both';
type Outcome =
  { scope: string | undefined; permissions?: string[] } | { error: 'access_denied' | 'unauthorized_client' };

const ok = (scope: string | undefined, permissions?: string[]): Outcome => ({
  scope,
  ...(permissions ? { permissions } : {}),
});
const DENIED: Outcome = { error: 'access_denied' };
const UNAUTHORIZED: Outcome = { error: 'unauthorized_client' };

// API scopes a b c; per-client user grant [a b]; default third-party user grant [c]; the user's RBAC permissions [b c].
// Columns: policy, party, grant, RBAC enforced, requested scope (undefined = omitted), expected.
const ROWS: [Policy, Party, GrantKind, boolean, string | undefined, Outcome][] = [
  ['allow_all', 'first', 'none', false, 'a b c', ok('a b c')],
  ['allow_all', 'first', 'none', true, 'a b c', ok('b c', ['b', 'c'])],
  ['allow_all', 'first', 'own', false, 'a b c', ok('a b c')],
  ['allow_all', 'first', 'own', true, 'a b c', ok('b c', ['b', 'c'])],
  ['allow_all', 'first', 'default', false, 'a b c', ok('a b c')],
  ['allow_all', 'first', 'default', true, 'a b c', ok('b c', ['b', 'c'])],
  ['allow_all', 'third', 'none', false, 'a b c', UNAUTHORIZED],
  ['allow_all', 'third', 'none', true, 'a b c', UNAUTHORIZED],
  ['allow_all', 'third', 'own', false, 'a b c', ok('a b')],
  ['allow_all', 'third', 'own', true, 'a b c', ok('b', ['b'])],
  ['allow_all', 'third', 'default', false, 'a b c', ok('c')],
  ['allow_all', 'third', 'default', true, 'a b c', ok('c', ['c'])],
  ['require_client_grant', 'first', 'none', false, 'a b c', DENIED],
  ['require_client_grant', 'first', 'none', true, 'a b c', DENIED],
  ['require_client_grant', 'first', 'own', false, 'a b c', ok('a b')],
  ['require_client_grant', 'first', 'own', true, 'a b c', ok('b', ['b'])],
  ['require_client_grant', 'first', 'default', false, 'a b c', DENIED],
  ['require_client_grant', 'first', 'default', true, 'a b c', DENIED],
  ['require_client_grant', 'third', 'none', false, 'a b c', UNAUTHORIZED],
  ['require_client_grant', 'third', 'none', true, 'a b c', UNAUTHORIZED],
  ['require_client_grant', 'third', 'own', false, 'a b c', ok('a b')],
  ['require_client_grant', 'third', 'own', true, 'a b c', ok('b', ['b'])],
  ['require_client_grant', 'third', 'default', false, 'a b c', ok('c')],
  ['require_client_grant', 'third', 'default', true, 'a b c', ok('c', ['c'])],
  ['deny_all', 'first', 'none', false, 'a b c', DENIED],
  ['deny_all', 'first', 'own', false, 'a b c', DENIED],
  ['deny_all', 'first', 'default', true, 'a b c', DENIED],
  ['deny_all', 'third', 'none', false, 'a b c', DENIED],
  ['deny_all', 'third', 'own', true, 'a b c', DENIED],
  ['deny_all', 'third', 'default', false, 'a b c', DENIED],
  // Requested scopes narrow further.
  ['allow_all', 'first', 'none', false, 'a', ok('a')],
  ['allow_all', 'first', 'none', true, 'a', ok(undefined, ['b', 'c'])],
  ['require_client_grant', 'first', 'own', false, 'b c', ok('b')],
  ['allow_all', 'third', 'own', true, 'a c', ok(undefined, ['b'])],
  // Omitted scope: implied trust under allow_all; per-app authorization must name its scopes (seed 002).
  ['allow_all', 'first', 'none', false, undefined, ok('a b c')],
  ['allow_all', 'third', 'own', false, undefined, ok('a b')],
  ['require_client_grant', 'first', 'own', false, undefined, ok(undefined)],
  ['require_client_grant', 'third', 'default', false, undefined, ok(undefined)],
  ['require_client_grant', 'third', 'own', true, undefined, ok(undefined, ['b'])],
];

/**
 * Seed 002's rules stated once more, independently of src/policy, to check every combination of
 * policy × party × grant × RBAC × requested scopes (the hand-written ROWS above anchor them).
 */
function expectedBySeed(
  policy: Policy,
  party: Party,
  grant: GrantKind,
  rbac: boolean,
  requested: string | undefined,
): Outcome {
  if (policy === 'deny_all') return DENIED;
  const own = grant === 'own' || grant === 'both';
  const dflt = grant === 'default' || grant === 'both';
  let ceiling: string[];
  if (party === 'third') {
    // Third-party apps always need a grant: their own, else the default for third-party apps.
    if (own) ceiling = ['a', 'b'];
    else if (dflt) ceiling = ['c'];
    else return UNAUTHORIZED;
  } else if (policy === 'require_client_grant') {
    if (!own) return DENIED;
    ceiling = ['a', 'b'];
  } else {
    ceiling = ['a', 'b', 'c'];
  }
  const asked =
    requested === undefined ? (policy === 'require_client_grant' ? [] : ceiling) : requested.split(' ');
  const rbacAllows = (s: string) => !rbac || s === 'b' || s === 'c';
  const scopes = ceiling.filter((s) => asked.includes(s) && rbacAllows(s));
  return ok(scopes.length > 0 ? scopes.join(' ') : undefined, rbac ? ceiling.filter(rbacAllows) : undefined);
}

const EVERY_ROW: [Policy, Party, GrantKind, boolean, string | undefined, Outcome][] = [];
for (const policy of ['allow_all', 'require_client_grant', 'deny_all'] as const)
  for (const party of ['first', 'third'] as const)
    for (const grant of ['none', 'own', 'default', 'both'] as const)
      for (const rbac of [false, true])
        for (const requested of ['a b c', 'a c', undefined])
          EVERY_ROW.push([
            policy,
            party,
            grant,
            rbac,
            requested,
            expectedBySeed(policy, party, grant, rbac, requested),
          ]);

describe('the seed oracle agrees with the hand-written rows', () => {
  it.each(ROWS)(
    '%s × %s-party × %s grant × RBAC %s × scope %j',
    (policy, party, grant, rbac, requested, want) => {
      expect(expectedBySeed(policy, party, grant, rbac, requested)).toEqual(want);
    },
  );
});

describe.each(testBackends())(
  'seed 002 user-delegated access matrix through POST /oauth/token on $name',
  (backend) => {
    let t: TestApp;
    let make: Factories;
    let user: User;
    beforeAll(async () => {
      t = await buildTestApp(backend);
      make = createFactories(t.deps);
      user = await make.user({ email: 'matrix@example.com' });
    });
    afterAll(async () => {
      await t.close();
    });

    it.each([...ROWS, ...EVERY_ROW])(
      '%s × %s-party × %s grant × RBAC %s × scope %j',
      async (policy, party, grantKind, rbac, requested, expected) => {
        const api = await make.api({
          scopes: [{ value: 'a' }, { value: 'b' }, { value: 'c' }],
          userPolicy: policy,
          enforcePolicies: rbac,
          tokenDialect: 'access_token_authz',
        });
        await t.deps.store.roles.addUserPermissions(user.userId, [
          { resourceServerIdentifier: api.identifier, permissionName: 'b' },
          { resourceServerIdentifier: api.identifier, permissionName: 'c' },
        ]);
        const client = await make.client({ isFirstParty: party === 'first', grantTypes: ['password'] });
        await make.enableConnection(client.clientId);
        if (grantKind === 'own' || grantKind === 'both')
          await make.grant({
            clientId: client.clientId,
            audience: api.identifier,
            subjectType: 'user',
            scope: ['a', 'b'],
          });
        if (grantKind === 'default' || grantKind === 'both')
          await make.grant({
            defaultFor: 'third_party_clients',
            audience: api.identifier,
            subjectType: 'user',
            scope: ['c'],
          });

        const res = await t.app.inject({
          method: 'POST',
          url: '/oauth/token',
          payload: {
            grant_type: 'password',
            username: 'matrix@example.com',
            password: 'Pass-word-123',
            audience: api.identifier,
            client_id: client.clientId,
            client_secret: client.clientSecret,
            ...(requested !== undefined ? { scope: requested } : {}),
          },
        });
        if ('error' in expected) {
          expect(res.statusCode).toBe(403);
          expect(res.json<{ error: string }>().error).toBe(expected.error);
          return;
        }
        expect(res.statusCode).toBe(200);
        const body = res.json<{ scope?: string; access_token: string }>();
        expect(body.scope).toBe(expected.scope);
        const claims = jwtPayload(body.access_token);
        expect(claims['scope']).toBe(expected.scope);
        expect(claims['permissions']).toEqual(expected.permissions);
      },
    );
  },
);
