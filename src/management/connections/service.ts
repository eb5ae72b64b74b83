import { DEFAULT_CONNECTION_OPTIONS, type Connection } from '../../domain/connection.js';
import { DEFAULT_CONNECTION_NAME } from '../../domain/tenant.js';
import { BadRequest, Conflict, NotFound } from '../../errors/api.js';
import type { Deps } from '../../server/deps.js';
import { isUniqueViolation } from '../../storage/json.js';
import type { Repositories } from '../../storage/repositories/index.js';
import type { ConnectionFilter } from '../../storage/repositories/connections.js';
import {
  SETTING_FIELDS,
  type ConnectionCreate,
  type ConnectionUpdate,
  type EnabledClientsUpdate,
} from './schemas.js';

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

    /** One offset page of the connections matching `filter`, with the total. */
    async list(filter: ConnectionFilter, page: { offset: number; limit: number }) {
      const [items, total] = await Promise.all([
        store.connections.list(filter, page),
        store.connections.count(filter),
      ]);
      return { items, total };
    },

    /** Checkpoint paging: up to `limit` connections matching `filter` after the id `afterId`. */
    listAfter: (filter: ConnectionFilter, afterId: string | undefined, limit: number) =>
      store.connections.list(filter, { offset: 0, limit }, afterId),

    /** The clients the connection is enabled for, in client_id order after `afterId`. */
    async enabledClients(id: string, afterId: string | undefined, limit: number): Promise<string[]> {
      const c = await store.connections.findById(id);
      if (!c) throw notFound();
      return [...c.enabledClients]
        .sort()
        .filter((clientId) => afterId === undefined || clientId > afterId)
        .slice(0, limit);
    },

    /** Enables (status true) or disables the connection for each client. */
    async updateEnabledClients(id: string, changes: EnabledClientsUpdate): Promise<void> {
      await store.transaction(async (repos) => {
        await repos.tenants.lock();
        const current = await repos.connections.findById(id);
        if (!current) throw notFound();
        const enabling = changes.filter((c) => c.status).map((c) => c.client_id);
        await assertClientsExist(repos, enabling);
        const enabled = new Set(current.enabledClients);
        for (const change of changes) {
          if (change.status) enabled.add(change.client_id);
          else enabled.delete(change.client_id);
        }
        await repos.connections.update({ ...current, enabledClients: [...enabled], updatedAt: now() });
      });
    },

    async create(body: ConnectionCreate): Promise<Connection> {
      assertNoReservedOptions(body.options);
      assertRealms(body.name, body.realms);
      const at = now();
      const connection: Connection = {
        tenantId: deps.tenantId,
        id: deps.ids.prefixed('con'),
        name: body.name,
        strategy: body.strategy,
        options: { ...DEFAULT_CONNECTION_OPTIONS, ...body.options, ...pickSettings(body) },
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
      assertNoReservedOptions(body.options ?? undefined);
      return store.transaction(async (repos) => {
        await repos.tenants.lock();
        const current = await repos.connections.findById(id);
        if (!current) throw notFound();
        assertRealms(current.name, body.realms);
        await assertClientsExist(repos, body.enabled_clients ?? undefined);
        const currentSettings = pickSettings(current.options);
        // Auth0 compat: PATCH replaces `options` as a whole.
        const options = body.options === undefined ? withoutSettings(current.options) : (body.options ?? {});
        const settings = Object.fromEntries(
          Object.entries({ ...currentSettings, ...pickSettings(body) }).filter(([, v]) => v !== null),
        );
        const enabledClients =
          body.enabled_clients === undefined ? current.enabledClients : (body.enabled_clients ?? []);
        const next: Connection = {
          ...current,
          options: { ...options, ...settings },
          enabledClients,
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
 * The top-level settings (display_name, metadata, show_as_button, …) are stored inside `options` and lifted
 * out by the view, so `options` may not carry them itself: a stored `options.metadata` that is not a string
 * map would break every read.
 */
function assertNoReservedOptions(options: Readonly<Record<string, unknown>> | undefined): void {
  const key = SETTING_FIELDS.find((k) => options !== undefined && Object.hasOwn(options, k));
  if (key !== undefined) {
    throw new BadRequest(
      'invalid_body',
      `Payload validation error: 'Additional properties not allowed: ${key}' on property options (send ${key} at the top level).`,
    );
  }
}

/** A database connection's realm is its name (Auth0's default); the password-realm grant matches on it. */
function assertRealms(name: string, realms: readonly string[] | undefined): void {
  if (realms === undefined || realms.length === 0 || (realms.length === 1 && realms[0] === name)) return;
  throw new BadRequest(
    'operation_not_supported',
    `Latchkey matches a database connection by its name only: realms must be ["${name}"].`,
  );
}

/** Settings kept in the options object; `realms` is never stored (it is always the name). */
function pickSettings(source: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(
    SETTING_FIELDS.filter((k) => k !== 'realms' && source[k] !== undefined).map((k) => [k, source[k]]),
  );
}

function withoutSettings(options: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).filter(([k]) => !SETTING_FIELDS.includes(k)));
}
