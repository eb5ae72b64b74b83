import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { NotFound } from '../../errors/api.js';
import { managementFactorView } from '../../myaccount/factors.js';
import { relyingParty } from '../../myaccount/service.js';
import { managementPasskeyView } from '../../myaccount/views.js';
import type { Deps } from '../../server/deps.js';
import { requireScope } from '../auth.js';
import { offsetListBody, PageQuery, toPage } from '../pagination.js';

const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 300 }) });
const MethodParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 300 }),
  method_id: Type.String({ minLength: 1, maxLength: 300 }),
});
const ListQuery = Type.Object(PageQuery, { additionalProperties: false });

const noUser = () => new NotFound('inexistent_user', 'The user does not exist.');

/**
 * An administrator's view of a user's authentication methods (spec 4.3: `read:` / `delete:authentication_methods`):
 * the passkeys and second factors the user enrolled through the My Account API. Offset paging, `authenticators` with totals (spec 4.1).
 */
export const userAuthenticationMethodRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (
  app,
  { deps },
) => {
  const rp = relyingParty(deps.config.issuer);

  app.get(
    '/users/:id/authentication-methods',
    {
      schema: { params: Params, querystring: ListQuery },
      preHandler: requireScope('read:authentication_methods'),
    },
    async (req) => {
      if (!(await deps.store.users.findStanding(req.params.id))) throw noUser();
      const all = [
        ...(await deps.store.passkeys.listForUser(req.params.id)).map((p) => managementPasskeyView(p, rp.id)),
        ...(await deps.store.mfaEnrolments.listConfirmed(req.params.id)).map(managementFactorView),
      ];
      const { offset, limit } = toPage(req.query);
      const items = all.slice(offset, offset + limit);
      return offsetListBody('authenticators', items, req.query, all.length);
    },
  );

  app.delete(
    '/users/:id/authentication-methods/:method_id',
    {
      schema: { params: MethodParams },
      preHandler: requireScope('delete:authentication_methods'),
    },
    async (req, reply) => {
      if (!(await deps.store.users.findStanding(req.params.id))) throw noUser();
      const id = req.params.method_id;
      const store = id.startsWith('passkey|') ? deps.store.passkeys : deps.store.mfaEnrolments;
      const deleted = await store.delete(req.params.id, id);
      deps.invalidation.userChanged(req.params.id, 'passkeys');
      if (!deleted) throw new NotFound('not_found', 'The authentication method does not exist.');
      return reply.status(204).send();
    },
  );
};
