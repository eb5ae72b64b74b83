import {
  endpointProblem,
  UNSUPPORTED_STREAM_TYPES,
  type HttpSink,
  type LogStream,
} from '../../domain/log-stream.js';
import { BadRequest, NotFound } from '../../errors/api.js';
import type { Deps } from '../../server/deps.js';
import type { LogStreamCreate, LogStreamUpdate } from './schemas.js';

// Auth0's errorCode for an unknown log stream is unconfirmed; this follows its inexistent_* spelling.
const notFound = () => new NotFound('inexistent_log_stream', 'The log stream does not exist.');

function assertEndpoint(sink: HttpSink): void {
  const problem = endpointProblem(sink.httpEndpoint);
  if (problem !== undefined) throw new BadRequest('invalid_body', `Payload validation error: ${problem}.`);
}

// Delivering unmasked events to a stream configured to mask them would leak what the caller asked to hide.
function assertNoPiiConfig(piiConfig: unknown): void {
  if (piiConfig !== undefined && piiConfig !== null) {
    throw new BadRequest(
      'invalid_body',
      'Payload validation error: Latchkey does not obfuscate PII in log streams; pii_config is not supported.',
    );
  }
}

/** Refuses Auth0's other stream types with a message that says why (called before schema validation). */
export function assertSupportedType(type: unknown): void {
  if (typeof type === 'string' && (UNSUPPORTED_STREAM_TYPES as readonly string[]).includes(type)) {
    throw new BadRequest(
      'invalid_body',
      `Payload validation error: Latchkey delivers log streams only to HTTP endpoints (type "http"); it does not deliver to ${type}.`,
    );
  }
}

/** Auth0's log streams: HTTP endpoints that receive the tenant's log events (delivery: logs/streams.ts). */
export function createLogStreamService(deps: Deps) {
  const { store } = deps;
  const nowIso = () => new Date(deps.clock.now()).toISOString();

  async function get(id: string): Promise<LogStream> {
    const stream = await store.logStreams.findById(id);
    if (!stream) throw notFound();
    return stream;
  }

  return {
    list: () => store.logStreams.list(),
    get,

    async create(body: LogStreamCreate): Promise<LogStream> {
      assertNoPiiConfig(body.pii_config);
      if (body.startFrom !== undefined) {
        throw new BadRequest(
          'invalid_body',
          'Payload validation error: Latchkey streams events recorded after the stream is created; startFrom is not supported.',
        );
      }
      const sink: HttpSink = { ...body.sink, httpContentFormat: body.sink.httpContentFormat ?? 'JSONARRAY' };
      assertEndpoint(sink);
      const id = deps.ids.prefixed('lst');
      const at = nowIso();
      const stream: LogStream = {
        id,
        // Auth0 makes the name optional; an unnamed stream is named after its id here.
        name: body.name ?? id,
        type: 'http',
        status: 'active',
        sink,
        filters: body.filters,
        isPriority: body.isPriority ?? false,
        createdAt: at,
        updatedAt: at,
      };
      await store.logStreams.insert(stream);
      return stream;
    },

    /** Sink fields are merged into the stored sink, as Auth0's PATCH does. */
    async update(id: string, patch: LogStreamUpdate): Promise<LogStream> {
      assertNoPiiConfig(patch.pii_config);
      const current = await get(id);
      const sink: HttpSink = { ...current.sink, ...patch.sink };
      assertEndpoint(sink);
      const next: LogStream = {
        ...current,
        name: patch.name ?? current.name,
        status: patch.status ?? current.status,
        sink,
        filters: patch.filters ?? current.filters,
        isPriority: patch.isPriority ?? current.isPriority,
        updatedAt: nowIso(),
      };
      await store.logStreams.update(next);
      return next;
    },

    async delete(id: string): Promise<void> {
      if (!(await store.logStreams.delete(id))) throw notFound();
    },
  };
}
