import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';
import { insufficientScope } from '../../errors/api.js';
import type { Deps } from '../../server/deps.js';
import { requireScope } from '../auth.js';
import { checkpointPage, isCheckpointRequest, offsetListBody, selectFields, toPage } from '../pagination.js';
import type { Client } from '../../domain/client.js';
import {
  ClientCreate,
  ClientGetQuery,
  ClientListQuery,
  ClientListView,
  ClientParams,
  ClientUpdate,
  ClientView,
  CredentialCreate,
  CredentialParams,
  CredentialUpdate,
  CredentialView,
  toClientView,
  toCredentialView,
} from './schemas.js';
import { createClientService } from './service.js';

// Auth0 shows client_secret only to tokens that may read client keys.
const canReadKeys = (req: FastifyRequest) => req.auth?.scopes.has('read:client_keys') === true;

export const clientRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const service = createClientService(deps);
  const view = (client: Parameters<typeof toClientView>[0], withSecret: boolean) =>
    toClientView(client, deps.tenantId, withSecret);

  app.get(
    '/clients',
    {
      schema: { querystring: ClientListQuery, response: { 200: ClientListView } },
      preHandler: requireScope('read:clients', 'read:client_summary'),
    },
    async (req) => {
      const q = req.query;
      const filter = {
        isGlobal: q.is_global,
        isFirstParty: q.is_first_party,
        appType: q.app_type,
        externalClientId: q.external_client_id,
        q: q.q,
      };
      const toView = (c: Client) => selectFields(view(c, canReadKeys(req)), q);
      if (isCheckpointRequest(q)) {
        return checkpointPage(
          'clients',
          q,
          async (after, limit) =>
            (await service.listAfter(filter, after, limit)).map((c) => ({ id: c.clientId, client: c })),
          (row) => toView(row.client),
        );
      }
      const { items, total } = await service.list(filter, toPage(q));
      return offsetListBody('clients', items.map(toView), q, total);
    },
  );

  app.post(
    '/clients',
    {
      config: { invalidates: 'config' },
      schema: { body: ClientCreate, response: { 201: ClientView } },
      preHandler: requireScope('create:clients'),
    },
    async (req, reply) => reply.status(201).send(view(await service.create(req.body), true)),
  );

  app.get(
    '/clients/:id',
    {
      schema: { params: ClientParams, querystring: ClientGetQuery, response: { 200: ClientView } },
      preHandler: requireScope('read:clients'),
    },
    async (req) => selectFields(view(await service.get(req.params.id), canReadKeys(req)), req.query),
  );

  app.patch(
    '/clients/:id',
    {
      config: { invalidates: 'config' },
      schema: { params: ClientParams, body: ClientUpdate, response: { 200: ClientView } },
      preHandler: [
        requireScope('update:clients'),
        async (req) => {
          const body = req.body as { client_secret?: unknown };
          if (body.client_secret !== undefined && req.auth?.scopes.has('update:client_keys') !== true) {
            throw insufficientScope(['update:client_keys']);
          }
        },
      ],
    },
    async (req) => view(await service.update(req.params.id, req.body), canReadKeys(req)),
  );

  app.delete(
    '/clients/:id',
    {
      config: { invalidates: 'config' },
      schema: { params: ClientParams },
      preHandler: requireScope('delete:clients'),
    },
    async (req, reply) => {
      await service.remove(req.params.id);
      return reply.status(204).send();
    },
  );

  app.post(
    '/clients/:id/rotate-secret',
    {
      config: { invalidates: 'config' },
      schema: { params: ClientParams, response: { 200: ClientView } },
      preHandler: requireScope('update:client_keys'),
    },
    async (req) => view(await service.rotateSecret(req.params.id), true),
  );

  app.get(
    '/clients/:id/credentials',
    {
      schema: { params: ClientParams, response: { 200: Type.Array(CredentialView) } },
      preHandler: requireScope('read:client_credentials'),
    },
    async (req) => (await service.listCredentials(req.params.id)).map(toCredentialView),
  );

  app.post(
    '/clients/:id/credentials',
    {
      config: { invalidates: 'config' },
      schema: { params: ClientParams, body: CredentialCreate, response: { 201: CredentialView } },
      preHandler: requireScope('create:client_credentials'),
    },
    async (req, reply) =>
      reply.status(201).send(toCredentialView(await service.createCredential(req.params.id, req.body))),
  );

  app.get(
    '/clients/:id/credentials/:credential_id',
    {
      schema: { params: CredentialParams, response: { 200: CredentialView } },
      preHandler: requireScope('read:client_credentials'),
    },
    async (req) => toCredentialView(await service.getCredential(req.params.id, req.params.credential_id)),
  );

  app.patch(
    '/clients/:id/credentials/:credential_id',
    {
      config: { invalidates: 'config' },
      schema: { params: CredentialParams, body: CredentialUpdate, response: { 200: CredentialView } },
      preHandler: requireScope('update:client_credentials'),
    },
    async (req) =>
      toCredentialView(
        await service.updateCredential(req.params.id, req.params.credential_id, req.body.expires_at),
      ),
  );

  app.delete(
    '/clients/:id/credentials/:credential_id',
    {
      config: { invalidates: 'config' },
      schema: { params: CredentialParams },
      preHandler: requireScope('delete:client_credentials'),
    },
    async (req, reply) => {
      await service.deleteCredential(req.params.id, req.params.credential_id);
      return reply.status(204).send();
    },
  );
};
