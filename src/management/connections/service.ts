import { DEFAULT_CONNECTION_OPTIONS, type Connection } from '../../domain/connection.js';
import { DEFAULT_CONNECTION_NAME } from '../../domain/tenant.js';
import { BadRequest, Conflict, NotFound } from '../../errors/api.js';
import type { Deps } from '../../server/deps.js';
import { isUniqueViolation } from '../../storage/json.js';
import type { Repositories } from '../../storage/repositories/index.js';
import type { ConnectionCreate, ConnectionUpdate } from './schemas.js';

const notFound = () => new NotFound('inexistent_connection', 'The connection does not exist');

export function createConnectionService(deps: Deps) {
  const { store } = deps;
  const now = () => new Date(deps.clock.now()).toISOString();

  /** Run inside the transaction that writes enabled_clients, after the tenant lock, so no client vanishes in between. */
  async function assertClientsExist(repos: Repositories, ids: readonly string[] | undefined): Promise<void> {
    for (const id of ids ?? []) {
      if (!(await repos.clients.findById(id))) {
        throw new BadRequest(
          'invalid_body',
          `Payload validation error: client ${id} does not exist (enabled_clients).`,
        );
      }
    }
  }

  return {
    async get(id: string): Promise<Connection> {
      const c = await store.connections.findById(id);
      if (!c) throw notFound();
      return c;
    },

    list: (
      filter: { strategy?: string; name?: string },
      page: { offset: number; limit: number },
      afterId?: string,
    ) => store.connections.list(filter, page, afterId),

    async create(body: ConnectionCreate): Promise<Connection> {
      assertNoReservedOptions(body.options);
      const at = now();
      const connection: Connection = {
        tenantId: deps.tenantId,
        id: deps.ids.prefixed('con'),
        name: body.name,
        strategy: body.strategy,
        options: {
          ...DEFAULT_CONNECTION_OPTIONS,
          ...body.options,
          ...(body.display_name !== undefined ? { display_name: body.display_name } : {}),
          ...(body.metadata !== undefined ? { metadata: body.metadata } : {}),
        },
        enabledClients: body.enabled_clients ?? [],
        createdAt: at,
        updatedAt: at,
      };
      try {
        await store.transaction(async (repos) => {
          await repos.tenants.lock();
          await assertClientsExist(repos, body.enabled_clients);
          await repos.connections.insert(connection);
        });
      } catch (error) {
        if (isUniqueViolation(error))
          throw new Conflict('connection_conflict', 'A connection with the same name already exists');
        throw error;
      }
      return connection;
    },

    async update(id: string, body: ConnectionUpdate): Promise<Connection> {
      assertNoReservedOptions(body.options);
      return store.transaction(async (repos) => {
        await repos.tenants.lock();
        const current = await repos.connections.findById(id);
        if (!current) throw notFound();
        await assertClientsExist(repos, body.enabled_clients);
        // Auth0 compat: PATCH replaces `options` as a whole.
        const options = body.options ?? current.options;
        const next: Connection = {
          ...current,
          options: {
            ...options,
            ...(body.display_name !== undefined
              ? { display_name: body.display_name }
              : pick(current.options, 'display_name')),
            ...(body.metadata !== undefined
              ? { metadata: body.metadata }
              : pick(current.options, 'metadata')),
          },
          enabledClients: body.enabled_clients ?? current.enabledClients,
          updatedAt: now(),
        };
        await repos.connections.update(next);
        return next;
      });
    },

    async remove(id: string): Promise<void> {
      const current = await store.connections.findById(id);
      if (!current) throw notFound();
      const tenant = await store.tenants.find();
      if (current.name === (tenant?.settings['default_directory'] ?? DEFAULT_CONNECTION_NAME)) {
        throw new BadRequest(
          'invalid_body',
          'The default directory cannot be deleted; change default_directory first.',
        );
      }
      await store.transaction(async (repos) => {
        await repos.users.deleteByConnection(current.name);
        await repos.connections.delete(id);
      });
    },
  };
}

/**
 * `display_name` and `metadata` are stored inside `options` and lifted out by the view, so `options` may
 * not carry them itself: a stored `options.metadata` that is not a string map would break every read.
 */
function assertNoReservedOptions(options: Readonly<Record<string, unknown>> | undefined): void {
  const key = RESERVED_OPTION_KEYS.find((k) => options !== undefined && Object.hasOwn(options, k));
  if (key !== undefined) {
    throw new BadRequest(
      'invalid_body',
      `Payload validation error: 'Additional properties not allowed: ${key}' on property options (send ${key} at the top level).`,
    );
  }
}

const RESERVED_OPTION_KEYS = ['display_name', 'metadata'] as const;

function pick(options: Readonly<Record<string, unknown>>, key: string): Record<string, unknown> {
  return options[key] === undefined ? {} : { [key]: options[key] };
}
