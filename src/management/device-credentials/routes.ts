import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { DeviceCredential } from '../../domain/device-credential.js';
import type { RefreshTokenRecord } from '../../domain/refresh-token.js';
import { BadRequest, Conflict, Forbidden, NotFound, insufficientScope } from '../../errors/api.js';
import { scopeCheck } from '../../server/authenticated-request.js';
import type { Deps } from '../../server/deps.js';
import { isUniqueViolation } from '../../storage/json.js';
import { requireScope } from '../auth.js';
import { FieldsQuery, offsetListBody, PageQuery, selectFields, toPage } from '../pagination.js';

/** Auth0 lists at most this many device credentials (spec 4.6). */
const MAX_RESULTS = 1000;

const ListQuery = Type.Object(
  {
    ...PageQuery,
    // Auth0 pages device credentials up to its 1000-result cap (spec 4.6).
    per_page: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_RESULTS })),
    ...FieldsQuery,
    user_id: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
    client_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    type: Type.Optional(
      Type.Union([
        Type.Literal('public_key'),
        Type.Literal('refresh_token'),
        Type.Literal('rotating_refresh_token'),
      ]),
    ),
  },
  { additionalProperties: false },
);

const CreateBody = Type.Object(
  {
    device_name: Type.String({ minLength: 1, maxLength: 255 }),
    type: Type.Literal('public_key'),
    value: Type.String({ minLength: 1, maxLength: 8192, pattern: '^[A-Za-z0-9+/_=-]+$' }),
    device_id: Type.String({ minLength: 1, maxLength: 36, pattern: '^[-A-Fa-f0-9]+$' }),
    client_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

interface CredentialView {
  id: string;
  device_name: string;
  device_id: string;
  type: string;
  user_id: string;
  client_id: string;
}

const publicKeyView = (c: DeviceCredential): CredentialView => ({
  id: c.id,
  device_name: c.deviceName,
  device_id: c.deviceId,
  type: c.type,
  user_id: c.userId,
  client_id: c.clientId,
});

/** A refresh token as a device credential: Auth0 names the device by its user agent. */
const refreshTokenView = (t: RefreshTokenRecord): CredentialView => ({
  id: t.id,
  device_name: t.device.initialUserAgent ?? '',
  device_id: '',
  type: t.rotating ? 'rotating_refresh_token' : 'refresh_token',
  user_id: t.userId,
  client_id: t.clientId,
});

const notOwn = () =>
  new Forbidden('insufficient_scope', 'User to be acted on does not match subject in bearer token.');

/**
 * /device-credentials (spec 4.6, seed 003): devices' public keys, registered by the user's own token, and the
 * user's refresh tokens listed beside them. Deleting takes the any-user scope, or the current-user scope for
 * one's own credential.
 */
export const deviceCredentialRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const nowSeconds = () => Math.floor(deps.clock.now() / 1000);

  app.get(
    '/device-credentials',
    { schema: { querystring: ListQuery }, preHandler: requireScope('read:device_credentials') },
    async (req) => {
      const q = req.query;
      const filter = {
        ...(q.user_id !== undefined ? { userId: q.user_id } : {}),
        ...(q.client_id !== undefined ? { clientId: q.client_id } : {}),
      };
      const keys =
        q.type === undefined || q.type === 'public_key'
          ? (await deps.store.deviceCredentials.list(filter, MAX_RESULTS)).map(publicKeyView)
          : [];
      // Refresh tokens are a user's: they are listed for one user at a time.
      const tokens =
        q.user_id !== undefined && q.type !== 'public_key'
          ? (
              await deps.store.refreshTokens.listActiveForUser(
                q.user_id,
                nowSeconds(),
                undefined,
                MAX_RESULTS,
              )
            )
              .filter((t) => q.client_id === undefined || t.clientId === q.client_id)
              .map(refreshTokenView)
              .filter((v) => q.type === undefined || v.type === q.type)
          : [];
      const all = [...keys, ...tokens].slice(0, MAX_RESULTS);
      const { offset, limit } = toPage(q);
      const items = all.slice(offset, offset + limit).map((v) => selectFields(v, q));
      return offsetListBody('device_credentials', items, q, all.length);
    },
  );

  app.post(
    '/device-credentials',
    {
      schema: { body: CreateBody },
      preHandler: requireScope('create:device_credentials', 'create:current_user_device_credentials'),
    },
    async (req, reply) => {
      const auth = req.auth;
      // The key is the token's user's: a client's own token names no user to register it for.
      if (auth?.isUser !== true) {
        if (auth?.scopes.has('create:device_credentials') === true) {
          throw new Forbidden('insufficient_scope', 'Cannot create device credentials for that user.');
        }
        throw notOwn();
      }
      const clientId = req.body.client_id ?? auth.clientId;
      if (clientId === undefined || !(await deps.lookups.client(clientId))) {
        throw new BadRequest(
          'invalid_body',
          'Payload validation error: client_id is not a client of this tenant.',
        );
      }
      const credential: DeviceCredential = {
        id: `dcr_${randomBytes(12).toString('hex')}`,
        userId: auth.sub,
        clientId,
        deviceId: req.body.device_id,
        deviceName: req.body.device_name,
        type: 'public_key',
        value: req.body.value,
        createdAt: new Date(deps.clock.now()).toISOString(),
      };
      try {
        await deps.store.deviceCredentials.insert(credential);
      } catch (error) {
        if (isUniqueViolation(error))
          throw new Conflict('conflict', 'A public key already exists for the device.');
        throw error;
      }
      return reply.status(201).send({ id: credential.id });
    },
  );

  app.delete(
    '/device-credentials/:id',
    {
      schema: { params: IdParams },
      preHandler: scopeCheck((req) => {
        const granted = req.auth?.scopes;
        if (granted?.has('delete:device_credentials') === true) return;
        if (granted?.has('delete:current_user_device_credentials') !== true) {
          throw insufficientScope(['delete:device_credentials', 'delete:current_user_device_credentials']);
        }
        if (req.auth?.isUser !== true) throw notOwn();
        req.auth = { ...req.auth, currentUserOnly: true };
      }),
    },
    async (req, reply) => {
      const id = req.params.id;
      const own = req.auth?.currentUserOnly === true ? req.auth.sub : undefined;
      const key = await deps.store.deviceCredentials.findById(id);
      if (key) {
        if (own !== undefined && key.userId !== own) throw notOwn();
        await deps.store.deviceCredentials.delete(id);
        return reply.status(204).send();
      }
      const token = await deps.store.refreshTokens.findActiveById(id, nowSeconds());
      if (!token) throw new NotFound('inexistent_device_credential', 'The device credential does not exist.');
      if (own !== undefined && token.userId !== own) throw notOwn();
      await deps.store.refreshTokens.revokeFamily(token.familyId, nowSeconds(), 'deleted_by_admin');
      return reply.status(204).send();
    },
  );
};
