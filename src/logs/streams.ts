import { setTimeout as sleep } from 'node:timers/promises';
import { LOG_TYPES, type LogEvent } from '../domain/log-event.js';
import { streamAccepts, type HttpContentFormat, type LogStream } from '../domain/log-stream.js';
import { toLogView } from './view.js';

export interface StreamDeliveryOptions {
  /** The tenant's streams (all of them; paused ones are skipped here). */
  readonly load: () => Promise<readonly LogStream[]>;
  readonly now: () => number;
  readonly warn: (message: string, detail?: Record<string, unknown>) => void;
  /** Waits before each retry; one retry per entry. */
  readonly retryDelaysMs?: readonly number[];
  /** Per request. */
  readonly timeoutMs?: number;
  /** Streams are reloaded at least this often, in case an invalidation message from another node was lost. */
  readonly cacheMs?: number;
  /** Batches being delivered at once; beyond it new batches are dropped (and counted) rather than queued. */
  readonly maxInFlight?: number;
  readonly fetch?: typeof fetch;
}

/** Auth0's HTTP log streams: posts each stored batch of events to every active stream that wants them. */
export interface StreamDelivery {
  /** Starts delivering `events` in the background; returns at once and never throws. */
  deliver(events: readonly LogEvent[]): void;
  /** The streams changed (a Management write here or on another node): reload before the next batch. */
  invalidate(): void;
  /** Resolves once every delivery started so far has succeeded or given up (tests wait on it). */
  idle(): Promise<void>;
  /** Cancels waiting retries, gives requests in flight up to `graceMs`, then aborts them. */
  close(graceMs?: number): Promise<void>;
}

export const RETRY_DELAYS_MS = [1_000, 4_000, 16_000];
const TIMEOUT_MS = 10_000;

type Outcome = 'delivered' | 'retry' | 'rejected';

/** Auth0's stream item: the event id beside the event as `GET /api/v2/logs` shows it. */
const toItem = (event: LogEvent) => ({ log_id: event.logId, data: toLogView(event) });

/** The request bodies one batch becomes in a stream's format. */
export function toBodies(format: HttpContentFormat, events: readonly LogEvent[]): string[] {
  switch (format) {
    case 'JSONARRAY':
      return [JSON.stringify(events.map(toItem))];
    case 'JSONLINES':
      return [events.map((e) => JSON.stringify(toItem(e))).join('\n')];
    case 'JSONOBJECT':
      return events.map((e) => JSON.stringify(toItem(e)));
    default: {
      const unknown: never = format;
      throw new Error(`unknown format ${String(unknown)}`);
    }
  }
}

function toHeaders(stream: LogStream): Headers {
  const { sink } = stream;
  const headers = new Headers({ 'content-type': sink.httpContentType ?? 'application/json' });
  if (sink.httpAuthorization !== undefined) headers.set('authorization', sink.httpAuthorization);
  for (const { header, value } of sink.httpCustomHeaders ?? []) headers.set(header, value);
  return headers;
}

/**
 * Delivery runs beside the recorder, never in a request's path: a slow or failing endpoint costs a few pending
 * promises, not latency. Network errors, timeouts, 429 and 5xx are retried with backoff; then the batch is
 * dropped with a warning. Each node delivers the events it recorded.
 */
export function createStreamDelivery(options: StreamDeliveryOptions): StreamDelivery {
  const { load, now, warn } = options;
  const retryDelays = options.retryDelaysMs ?? RETRY_DELAYS_MS;
  const timeoutMs = options.timeoutMs ?? TIMEOUT_MS;
  const cacheMs = options.cacheMs ?? 30_000;
  const maxInFlight = options.maxInFlight ?? 1_000;
  const send = options.fetch ?? fetch;
  const stopRetries = new AbortController();
  const stopAll = new AbortController();
  const inFlight = new Set<Promise<void>>();
  let cached: { streams: Promise<readonly LogStream[]>; at: number } | undefined;
  // Bumped by every invalidation: a load that started before a write must not be kept after it.
  let generation = 0;
  let dropped = 0;
  let closed = false;

  const streams = (): Promise<readonly LogStream[]> => {
    if (cached && now() - cached.at < cacheMs) return cached.streams;
    const started = generation;
    const loading = load();
    cached = { streams: loading, at: now() };
    loading.then(
      () => {
        if (started !== generation) cached = undefined;
      },
      () => {
        cached = undefined;
      },
    );
    return loading;
  };

  const attempt = async (stream: LogStream, body: string): Promise<Outcome> => {
    try {
      const res = await send(stream.sink.httpEndpoint, {
        method: 'POST',
        headers: toHeaders(stream),
        body,
        // A redirect could lead to plain http or another host than the one configured.
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), stopAll.signal]),
      });
      await res.body?.cancel().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return 'delivered';
      if (res.status === 429 || res.status >= 500) return 'retry';
      warn('log stream endpoint refused events', { stream: stream.id, status: res.status });
      return 'rejected';
    } catch {
      return stopAll.signal.aborted ? 'rejected' : 'retry';
    }
  };

  const post = async (stream: LogStream, body: string): Promise<void> => {
    for (let retry = 0; ; retry++) {
      const outcome = await attempt(stream, body);
      if (outcome !== 'retry') return;
      const delay = retryDelays[retry];
      if (delay === undefined || stopRetries.signal.aborted) {
        warn('log stream delivery failed; events dropped', { stream: stream.id, attempts: retry + 1 });
        return;
      }
      try {
        await sleep(delay, undefined, { signal: stopRetries.signal, ref: false });
      } catch {
        warn('log stream delivery cancelled at shutdown; events dropped', { stream: stream.id });
        return;
      }
    }
  };

  const deliverTo = async (stream: LogStream, events: readonly LogEvent[]): Promise<void> => {
    // One body at a time: JSONOBJECT turns a batch into many requests, which should not all open at once.
    for (const body of toBodies(stream.sink.httpContentFormat, events)) await post(stream, body);
  };

  const run = async (events: readonly LogEvent[]): Promise<void> => {
    let all: readonly LogStream[];
    try {
      all = await streams();
    } catch (error) {
      warn('log streams not loaded; events not delivered', { events: events.length, error: String(error) });
      return;
    }
    await Promise.all(
      all
        .filter((s) => s.status === 'active')
        .map((stream) => {
          const wanted = events.filter((e) => streamAccepts(stream, LOG_TYPES[e.type].category));
          return wanted.length > 0 ? deliverTo(stream, wanted) : Promise.resolve();
        }),
    );
  };

  return {
    deliver(events) {
      if (closed || events.length === 0) return;
      if (inFlight.size >= maxInFlight) {
        dropped += events.length;
        warn('log stream deliveries backed up: events dropped', { dropped });
        return;
      }
      const job = run(events).catch((error: unknown) => {
        warn('log stream delivery failed', { error: String(error) });
      });
      inFlight.add(job);
      void job.finally(() => inFlight.delete(job));
    },
    invalidate() {
      generation += 1;
      cached = undefined;
    },
    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    async close(graceMs = 5_000) {
      closed = true;
      stopRetries.abort();
      const settled = Promise.allSettled([...inFlight]);
      await Promise.race([settled, sleep(graceMs, undefined, { ref: false })]);
      stopAll.abort();
      await settled;
    },
  };
}
