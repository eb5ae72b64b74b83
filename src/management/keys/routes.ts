import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { SigningKey } from '../../domain/signing-key.js';
import type { Deps } from '../../server/deps.js';
import { requireScope, requireScopeSet } from '../auth.js';
import { createKeyService } from './service.js';

const KeyView = Type.Object({
  kid: Type.String(),
  cert: Type.String(),
  fingerprint: Type.String(),
  thumbprint: Type.String(),
  current: Type.Optional(Type.Boolean()),
  next: Type.Optional(Type.Boolean()),
  previous: Type.Optional(Type.Boolean()),
  current_since: Type.Optional(Type.String()),
  current_until: Type.Optional(Type.String()),
  revoked: Type.Optional(Type.Boolean()),
  revoked_at: Type.Optional(Type.String()),
});
const KidParams = Type.Object({ kid: Type.String({ minLength: 1, maxLength: 100 }) });
const CertAndKid = Type.Object({ cert: Type.String(), kid: Type.String() });

// Auth0 sets the state booleans only when true; a retired key is neither current, next nor previous.
function toKeyView(key: SigningKey) {
  return {
    kid: key.kid,
    cert: key.cert,
    fingerprint: key.fingerprint,
    thumbprint: key.thumbprint,
    ...(key.state === 'current' ? { current: true } : {}),
    ...(key.state === 'next' ? { next: true } : {}),
    ...(key.state === 'previous' ? { previous: true } : {}),
    ...(key.currentSince !== undefined ? { current_since: key.currentSince } : {}),
    ...(key.currentUntil !== undefined ? { current_until: key.currentUntil } : {}),
    ...(key.revokedAt !== undefined ? { revoked: true, revoked_at: key.revokedAt } : {}),
  };
}

export const keyRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const service = createKeyService(deps);

  app.get(
    '/keys/signing',
    { schema: { response: { 200: Type.Array(KeyView) } }, preHandler: requireScope('read:signing_keys') },
    async () => (await service.list()).map(toKeyView),
  );

  app.get(
    '/keys/signing/:kid',
    {
      schema: { params: KidParams, response: { 200: KeyView } },
      preHandler: requireScope('read:signing_keys'),
    },
    async (req) => toKeyView(await service.get(req.params.kid)),
  );

  app.post(
    '/keys/signing/rotate',
    {
      config: { invalidates: 'keys' },
      schema: { response: { 201: CertAndKid } },
      // Rotation needs both scopes (spec 4.3), unlike the usual any-of rule.
      preHandler: requireScopeSet(['create:signing_keys', 'update:signing_keys']),
    },
    async (_req, reply) => {
      const key = await service.rotate();
      return reply.status(201).send({ cert: key.cert, kid: key.kid });
    },
  );

  app.put(
    '/keys/signing/:kid/revoke',
    {
      config: { invalidates: 'keys' },
      schema: { params: KidParams, response: { 200: CertAndKid } },
      preHandler: requireScope('update:signing_keys'),
    },
    async (req) => {
      const key = await service.revoke(req.params.kid);
      return { cert: key.cert, kid: key.kid };
    },
  );
};
