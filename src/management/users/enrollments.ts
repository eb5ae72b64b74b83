import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { MfaEnrolment } from '../../domain/mfa-enrolment.js';
import { NotFound } from '../../errors/api.js';
import { newRecoveryCode } from '../../mfa/recovery-code.js';
import { recoveryEnrolment } from '../../mfa/second-factor.js';
import type { Deps } from '../../server/deps.js';
import { requireScope, requireUserScope } from '../auth.js';

const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 300 }) });
const ProviderParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 300 }),
  provider: Type.Union([Type.Literal('duo'), Type.Literal('google-authenticator')]),
});

const noUser = () => new NotFound('inexistent_user', 'The user does not exist.');

/** Auth0's Guardian names for each enrolment type: `type` and `auth_method` of an enrollment. */
const GUARDIAN_TYPE: Readonly<Record<MfaEnrolment['type'], string | undefined>> = {
  totp: 'authenticator',
  email: 'email',
  phone: 'sms',
  // Recovery codes back the other factors up; Auth0 does not list them as enrollments.
  'recovery-code': undefined,
};

/** Auth0's enrollment item (spec 4.4, GET /users/{id}/enrollments). */
function enrollmentView(e: MfaEnrolment): Record<string, unknown> | undefined {
  const type = GUARDIAN_TYPE[e.type];
  if (type === undefined) return undefined;
  return {
    id: e.id,
    status: e.confirmed ? 'confirmed' : 'pending',
    type,
    auth_method: type,
    ...(e.name === undefined ? {} : { name: e.name }),
    ...(e.type === 'email' && e.address !== undefined ? { identifier: e.address } : {}),
    ...(e.type === 'phone' && e.address !== undefined ? { phone_number: e.address } : {}),
    ...(e.enrolledAt === undefined ? {} : { enrolled_at: e.enrolledAt }),
    ...(e.lastAuthAt === undefined ? {} : { last_auth: e.lastAuthAt }),
  };
}

/**
 * A user's second factors as the Guardian-era endpoints show and remove them (seed 003): enrollments, the
 * multifactor provider, every authenticator at once, and a new recovery code. Current-user scopes act on the
 * token's own user only (requireUserScope).
 */
export const userEnrollmentRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const existing = async (userId: string) => {
    if (!(await deps.store.users.findStanding(userId))) throw noUser();
  };
  const changed = (userId: string) => {
    deps.invalidation.userChanged(userId, 'passkeys');
  };

  app.get(
    '/users/:id/enrollments',
    {
      schema: { params: Params },
      preHandler: requireUserScope(['read:users'], ['read:current_user']),
    },
    async (req) => {
      await existing(req.params.id);
      const all = await deps.store.mfaEnrolments.listAll(req.params.id);
      return all.map(enrollmentView).filter((v) => v !== undefined);
    },
  );

  app.delete(
    '/guardian/enrollments/:id',
    { schema: { params: Params }, preHandler: requireScope('delete:guardian_enrollments') },
    async (req, reply) => {
      const found = await deps.store.mfaEnrolments.findById(req.params.id);
      if (!found || GUARDIAN_TYPE[found.type] === undefined) {
        throw new NotFound('inexistent_enrollment', 'Enrollment not found');
      }
      await deps.store.mfaEnrolments.delete(found.userId, found.id);
      changed(found.userId);
      return reply.status(204).send();
    },
  );

  // Seed 003: a user may drop their own authenticator app with delete:current_user_metadata.
  app.delete(
    '/users/:id/multifactor/:provider',
    {
      schema: { params: ProviderParams },
      preHandler: requireUserScope(['update:users'], ['delete:current_user_metadata']),
    },
    async (req, reply) => {
      await existing(req.params.id);
      // Duo is not offered here: the user has nothing to remove.
      if (req.params.provider === 'google-authenticator') {
        await deps.store.mfaEnrolments.deleteForUser(req.params.id, ['totp']);
        changed(req.params.id);
      }
      return reply.status(204).send();
    },
  );

  app.delete(
    '/users/:id/authenticators',
    { schema: { params: Params }, preHandler: requireScope('delete:guardian_enrollments') },
    async (req, reply) => {
      await existing(req.params.id);
      await deps.store.mfaEnrolments.deleteForUser(req.params.id);
      changed(req.params.id);
      return reply.status(204).send();
    },
  );

  app.post(
    '/users/:id/recovery-code-regeneration',
    { schema: { params: Params }, preHandler: requireScope('update:users') },
    async (req) => {
      await existing(req.params.id);
      const code = newRecoveryCode();
      const at = new Date(deps.clock.now()).toISOString();
      await deps.store.transaction(async (repos) => {
        await repos.mfaEnrolments.deleteForUser(req.params.id, ['recovery-code']);
        await repos.mfaEnrolments.insert(recoveryEnrolment(req.params.id, code, at));
      });
      changed(req.params.id);
      return { recovery_code: code };
    },
  );
};
