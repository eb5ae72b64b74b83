import { describe, expect, it } from 'vitest';
import { evaluateAccess } from '../../../src/policy/evaluate.js';
import type {
  AccessDecision,
  AccessRequest,
  PolicyApi,
  PolicyGrant,
  SubjectType,
} from '../../../src/policy/types.js';

const API: PolicyApi = {
  identifier: 'https://api.example.com/',
  isSystem: false,
  scopes: ['a', 'b', 'c'],
  userPolicy: 'allow_all',
  clientPolicy: 'require_client_grant',
  enforcePolicies: false,
};
const APP = 'app1';

function grants(kind: 'none' | 'own' | 'default' | 'both', subject: SubjectType): PolicyGrant[] {
  const own: PolicyGrant = {
    id: 'own',
    clientId: APP,
    defaultFor: null,
    subjectType: subject,
    scopes: ['a', 'b'],
    allowAllScopes: false,
  };
  const dflt: PolicyGrant = {
    id: 'dflt',
    clientId: null,
    defaultFor: 'third_party_clients',
    subjectType: subject,
    scopes: ['c'],
    allowAllScopes: false,
  };
  return { none: [], own: [own], default: [dflt], both: [own, dflt] }[kind];
}

const allow = (scopes: string[], grantId: string | undefined): AccessDecision => ({
  allowed: true,
  scopes,
  permissions: scopes,
  grantId,
});
const deny = (reason: 'policy_deny_all' | 'no_client_grant' | 'third_party_system_api'): AccessDecision => ({
  allowed: false,
  reason,
});

// Seed 002's table for user-delegated access: policy × first/third party × grants, requesting every scope.
const USER_ROWS: [
  AccessRequest['api']['userPolicy'],
  'first' | 'third',
  'none' | 'own' | 'default' | 'both',
  AccessDecision,
][] = [
  ['allow_all', 'first', 'none', allow(['a', 'b', 'c'], undefined)],
  ['allow_all', 'first', 'own', allow(['a', 'b', 'c'], undefined)],
  ['allow_all', 'first', 'default', allow(['a', 'b', 'c'], undefined)],
  ['allow_all', 'first', 'both', allow(['a', 'b', 'c'], undefined)],
  ['allow_all', 'third', 'none', deny('no_client_grant')],
  ['allow_all', 'third', 'own', allow(['a', 'b'], 'own')],
  ['allow_all', 'third', 'default', allow(['c'], 'dflt')],
  ['allow_all', 'third', 'both', allow(['a', 'b'], 'own')],
  ['require_client_grant', 'first', 'none', deny('no_client_grant')],
  ['require_client_grant', 'first', 'own', allow(['a', 'b'], 'own')],
  ['require_client_grant', 'first', 'default', deny('no_client_grant')],
  ['require_client_grant', 'first', 'both', allow(['a', 'b'], 'own')],
  ['require_client_grant', 'third', 'none', deny('no_client_grant')],
  ['require_client_grant', 'third', 'own', allow(['a', 'b'], 'own')],
  ['require_client_grant', 'third', 'default', allow(['c'], 'dflt')],
  ['require_client_grant', 'third', 'both', allow(['a', 'b'], 'own')],
  ['deny_all', 'first', 'none', deny('policy_deny_all')],
  ['deny_all', 'first', 'own', deny('policy_deny_all')],
  ['deny_all', 'first', 'default', deny('policy_deny_all')],
  ['deny_all', 'first', 'both', deny('policy_deny_all')],
  ['deny_all', 'third', 'none', deny('policy_deny_all')],
  ['deny_all', 'third', 'own', deny('policy_deny_all')],
  ['deny_all', 'third', 'default', deny('policy_deny_all')],
  ['deny_all', 'third', 'both', deny('policy_deny_all')],
];

const CLIENT_ROWS: [
  AccessRequest['api']['clientPolicy'],
  'first' | 'third',
  'none' | 'own' | 'default' | 'both',
  AccessDecision,
][] = [
  ['require_client_grant', 'first', 'none', deny('no_client_grant')],
  ['require_client_grant', 'first', 'own', allow(['a', 'b'], 'own')],
  ['require_client_grant', 'first', 'default', deny('no_client_grant')],
  ['require_client_grant', 'first', 'both', allow(['a', 'b'], 'own')],
  ['require_client_grant', 'third', 'none', deny('no_client_grant')],
  ['require_client_grant', 'third', 'own', allow(['a', 'b'], 'own')],
  ['require_client_grant', 'third', 'default', allow(['c'], 'dflt')],
  ['require_client_grant', 'third', 'both', allow(['a', 'b'], 'own')],
  ['deny_all', 'first', 'none', deny('policy_deny_all')],
  ['deny_all', 'first', 'own', deny('policy_deny_all')],
  ['deny_all', 'first', 'default', deny('policy_deny_all')],
  ['deny_all', 'first', 'both', deny('policy_deny_all')],
  ['deny_all', 'third', 'none', deny('policy_deny_all')],
  ['deny_all', 'third', 'own', deny('policy_deny_all')],
  ['deny_all', 'third', 'default', deny('policy_deny_all')],
  ['deny_all', 'third', 'both', deny('policy_deny_all')],
];

describe('evaluateAccess: user-delegated access (seed 002 table)', () => {
  it.each(USER_ROWS)('%s × %s-party × %s grant', (policy, party, kind, expected) => {
    const decision = evaluateAccess({
      subject: 'user',
      api: { ...API, userPolicy: policy },
      client: { clientId: APP, isFirstParty: party === 'first' },
      grants: grants(kind, 'user'),
      requestedScopes: ['a', 'b', 'c'],
    });
    expect(decision).toEqual(expected);
  });
});

describe('evaluateAccess: client access (seed 002 table)', () => {
  it.each(CLIENT_ROWS)('%s × %s-party × %s grant', (policy, party, kind, expected) => {
    const decision = evaluateAccess({
      subject: 'client',
      api: { ...API, clientPolicy: policy },
      client: { clientId: APP, isFirstParty: party === 'first' },
      grants: grants(kind, 'client'),
      requestedScopes: undefined,
    });
    expect(decision).toEqual(expected);
  });
});

describe('evaluateAccess: scopes', () => {
  const base = (over: Partial<AccessRequest>): AccessRequest => ({
    subject: 'user',
    api: API,
    client: { clientId: APP, isFirstParty: true },
    grants: [],
    requestedScopes: undefined,
    ...over,
  });

  it('allow_all_scopes grants every current scope, including ones the grant does not list', () => {
    const g: PolicyGrant = {
      id: 'g',
      clientId: APP,
      defaultFor: null,
      subjectType: 'client',
      scopes: [],
      allowAllScopes: true,
    };
    expect(
      evaluateAccess(base({ subject: 'client', grants: [g], api: { ...API, scopes: ['a', 'b', 'c', 'd'] } })),
    ).toEqual(allow(['a', 'b', 'c', 'd'], 'g'));
  });

  it('drops grant scopes the API no longer defines', () => {
    const g: PolicyGrant = {
      id: 'g',
      clientId: APP,
      defaultFor: null,
      subjectType: 'client',
      scopes: ['a', 'gone'],
      allowAllScopes: false,
    };
    expect(evaluateAccess(base({ subject: 'client', grants: [g] }))).toEqual(allow(['a'], 'g'));
  });

  it('intersects requested scopes with the grant and keeps the API order', () => {
    const g: PolicyGrant = {
      id: 'g',
      clientId: APP,
      defaultFor: null,
      subjectType: 'client',
      scopes: ['c', 'a', 'b'],
      allowAllScopes: false,
    };
    expect(
      evaluateAccess(base({ subject: 'client', grants: [g], requestedScopes: ['c', 'x', 'a', 'a'] })),
    ).toEqual(allow(['a', 'c'], 'g'));
  });

  it('needs explicit scopes for a first-party user flow under require_client_grant', () => {
    const g: PolicyGrant = {
      id: 'g',
      clientId: APP,
      defaultFor: null,
      subjectType: 'user',
      scopes: ['a', 'b'],
      allowAllScopes: false,
    };
    const api = { ...API, userPolicy: 'require_client_grant' as const };
    expect(evaluateAccess(base({ api, grants: [g], requestedScopes: undefined }))).toEqual(allow([], 'g'));
    expect(evaluateAccess(base({ api, grants: [g], requestedScopes: ['b'] }))).toEqual(allow(['b'], 'g'));
    // The rule belongs to the policy, so third-party applications must name their scopes too.
    const third = { clientId: APP, isFirstParty: false };
    expect(evaluateAccess(base({ api, client: third, grants: [g], requestedScopes: undefined }))).toEqual(
      allow([], 'g'),
    );
    const loose = { ...API, userPolicy: 'allow_all' as const };
    expect(
      evaluateAccess(base({ api: loose, client: third, grants: [g], requestedScopes: undefined })),
    ).toEqual(allow(['a', 'b'], 'g'));
  });

  it('gives the whole ceiling when nothing is requested under allow_all', () => {
    expect(evaluateAccess(base({}))).toEqual(allow(['a', 'b', 'c'], undefined));
  });

  it('limits user tokens to RBAC permissions only when the API enforces policies', () => {
    const rbac = { rbacPermissions: ['b', 'c', 'z'], requestedScopes: ['a', 'b'] };
    expect(evaluateAccess(base({ ...rbac, api: { ...API, enforcePolicies: false } }))).toEqual(
      allow(['a', 'b'], undefined),
    );
    expect(evaluateAccess(base({ ...rbac, api: { ...API, enforcePolicies: true } }))).toEqual({
      allowed: true,
      scopes: ['b'],
      permissions: ['b', 'c'],
      grantId: undefined,
    });
    expect(evaluateAccess(base({ requestedScopes: ['a'], api: { ...API, enforcePolicies: true } }))).toEqual({
      allowed: true,
      scopes: [],
      permissions: [],
      grantId: undefined,
    });
  });

  it('final scopes are exactly requested ∩ grant ∩ RBAC ∩ consent (seed 000)', () => {
    const g: PolicyGrant = {
      id: 'g',
      clientId: APP,
      defaultFor: null,
      subjectType: 'user',
      scopes: ['a', 'b', 'c'],
      allowAllScopes: false,
    };
    const decision = evaluateAccess(
      base({
        api: {
          ...API,
          scopes: ['a', 'b', 'c', 'd'],
          userPolicy: 'require_client_grant',
          enforcePolicies: true,
        },
        grants: [g],
        requestedScopes: ['a', 'b', 'c', 'd'],
        rbacPermissions: ['b', 'c', 'd'],
        consentedScopes: ['c', 'd', 'a'],
      }),
    );
    expect(decision).toEqual({ allowed: true, scopes: ['c'], permissions: ['b', 'c'], grantId: 'g' });
  });

  it('RBAC does not apply to client credentials', () => {
    const g: PolicyGrant = {
      id: 'g',
      clientId: APP,
      defaultFor: null,
      subjectType: 'client',
      scopes: ['a'],
      allowAllScopes: false,
    };
    expect(
      evaluateAccess(
        base({ subject: 'client', grants: [g], rbacPermissions: [], api: { ...API, enforcePolicies: true } }),
      ),
    ).toEqual(allow(['a'], 'g'));
  });

  it('a grant for one subject type never serves the other', () => {
    const clientGrant: PolicyGrant = {
      id: 'g',
      clientId: APP,
      defaultFor: null,
      subjectType: 'client',
      scopes: ['a'],
      allowAllScopes: false,
    };
    const api = { ...API, userPolicy: 'require_client_grant' as const };
    expect(evaluateAccess(base({ api, grants: [clientGrant], requestedScopes: ['a'] }))).toEqual(
      deny('no_client_grant'),
    );
    const userGrant: PolicyGrant = { ...clientGrant, subjectType: 'user' };
    expect(evaluateAccess(base({ subject: 'client', grants: [userGrant] }))).toEqual(deny('no_client_grant'));
  });

  it('never lets a third-party app reach a system API, grant or not', () => {
    const g: PolicyGrant = {
      id: 'g',
      clientId: APP,
      defaultFor: null,
      subjectType: 'user',
      scopes: ['a'],
      allowAllScopes: false,
    };
    const third = { clientId: APP, isFirstParty: false };
    expect(evaluateAccess(base({ client: third, grants: [g], api: { ...API, isSystem: true } }))).toEqual(
      deny('third_party_system_api'),
    );
    expect(
      evaluateAccess(
        base({
          subject: 'client',
          client: third,
          grants: [{ ...g, subjectType: 'client' }],
          api: { ...API, isSystem: true },
        }),
      ),
    ).toEqual(deny('third_party_system_api'));
  });
});
