import { Type } from 'typebox';
import { GUARDIAN_FACTORS, MFA_POLICIES } from '../../mfa/guardian.js';

const Closed = <P extends Parameters<typeof Type.Object>[0]>(properties: P) =>
  Type.Object(properties, { additionalProperties: false });

export const FactorParams = Closed({ name: Type.Union(GUARDIAN_FACTORS.map((f) => Type.Literal(f))) });

/** Auth0's PUT /api/v2/guardian/factors/{name} body and answer. */
export const FactorUpdate = Closed({ enabled: Type.Boolean() });

export const FactorList = Type.Array(
  Closed({ name: Type.String(), enabled: Type.Boolean(), trial_expired: Type.Optional(Type.Boolean()) }),
);

/** Auth0's PUT /api/v2/guardian/policies body and answer: `[]` or `["all-applications"]`. */
export const Policies = Type.Array(Type.Literal('all-applications' satisfies (typeof MFA_POLICIES)[number]), {
  maxItems: MFA_POLICIES.length,
  uniqueItems: true,
});
