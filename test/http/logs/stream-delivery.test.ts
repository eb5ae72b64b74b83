import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewLogEvent } from '../../../src/domain/log-event.js';
import { testBackends } from '../../helpers/backends.js';
import {
  BOOTSTRAP_CLIENT_ID,
  BOOTSTRAP_CLIENT_SECRET,
  buildTestApp,
  MGMT_AUDIENCE,
  type TestApp,
} from '../../helpers/build-test-app.js';
import { api } from '../../helpers/http.js';

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

interface Item {
  log_id: string;
  data: Record<string, unknown>;
}

/** A local log receiver: records every request; `/fail-N/…` answers 500 to its first N requests. */
async function startReceiver(): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const seen = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const count = (seen.get(path) ?? 0) + 1;
      seen.set(path, count);
      const failures = /^\/fail-(\d+)\//.exec(path)?.[1];
      const fails = path.startsWith('/always-500') || (failures !== undefined && count <= Number(failures));
      const status = /^\/status-(\d+)\//.exec(path)?.[1];
      res.statusCode = status !== undefined ? Number(status) : fails ? 500 : 200;
      res.end(res.statusCode === 200 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

const RETRIES = [10, 20, 40];

describe.each(testBackends())('log stream delivery on $name', (backend) => {
  let t: TestApp;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let token: string;
  const warnings: { message: string; detail: Record<string, unknown> | undefined }[] = [];
  beforeAll(async () => {
    receiver = await startReceiver();
    t = await buildTestApp(
      backend,
      {},
      {
        logStreamRetryDelaysMs: RETRIES,
        warn: (message, detail) => warnings.push({ message, detail }),
      },
    );
    token = await t.managementToken();
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  let marks = 0;
  /** Events of one test carry its own client id, so events recorded by other code are told apart. */
  const marker = () => `client-${String((marks += 1))}`;
  const createStream = async (path: string, extra: Record<string, unknown> = {}, sink = {}) => {
    const res = await api(t.app, {
      method: 'POST',
      url: '/api/v2/log-streams',
      token,
      body: { name: path, type: 'http', sink: { httpEndpoint: `${receiver.url}${path}`, ...sink }, ...extra },
    });
    expect(res.statusCode).toBe(201);
    return res.json<{ id: string }>().id;
  };
  const removeStream = (id: string) =>
    api(t.app, { method: 'DELETE', url: `/api/v2/log-streams/${id}`, token });
  const record = async (...events: NewLogEvent[]) => {
    for (const e of events) t.deps.events.record(e);
    await t.deps.events.flush();
    await t.deps.streamDelivery.idle();
  };
  const at = (path: string) => receiver.received.filter((r) => r.path === path);
  /** Delivers what other code recorded so far (the stream's own creation, the last test's removal), so that the
   * requests a test counts after it carry only that test's events. */
  const requestsFrom = async (path: string) => {
    await record();
    const before = at(path).length;
    return () => at(path).slice(before);
  };
  /** The items of one request body, in any of the three formats. */
  const itemsOf = (body: string): Item[] => {
    const parsed: unknown = body.trimStart().startsWith('[')
      ? JSON.parse(body)
      : body
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as unknown);
    return parsed as Item[];
  };
  const itemsFor = (path: string, clientId: string) =>
    at(path)
      .flatMap((r) => itemsOf(r.body))
      .filter((i) => i.data['client_id'] === clientId);
  const cc = (clientId: string, type: NewLogEvent['type'] = 'seccft'): NewLogEvent => ({
    type,
    clientId,
    clientName: 'Stream test',
    audience: 'https://api.example.com/',
    scope: 'read:a',
    ip: '203.0.113.7',
  });

  it('posts a JSONARRAY of {log_id, data} with the Authorization and custom headers', async () => {
    const client = marker();
    const id = await createStream(
      '/array',
      {},
      {
        httpAuthorization: 'Bearer receiver-secret',
        httpCustomHeaders: [
          { header: 'X-Tenant', value: 'acme' },
          { header: 'X-Env', value: 'test' },
        ],
      },
    );
    const after = await requestsFrom('/array');
    await record(cc(client), cc(client, 'feccft'));
    const requests = after();
    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request?.headers).toMatchObject({
      'content-type': 'application/json',
      authorization: 'Bearer receiver-secret',
      'x-tenant': 'acme',
      'x-env': 'test',
    });
    const items = itemsOf(request?.body ?? '');
    expect(Array.isArray(JSON.parse(request?.body ?? ''))).toBe(true);
    const mine = items.filter((i) => i.data['client_id'] === client);
    expect(mine).toEqual([
      {
        log_id: expect.any(String),
        data: {
          log_id: mine[0]?.log_id,
          date: new Date(t.clock.now()).toISOString(),
          type: 'seccft',
          description: '',
          client_id: client,
          client_name: 'Stream test',
          audience: 'https://api.example.com/',
          scope: 'read:a',
          ip: '203.0.113.7',
          isMobile: false,
        },
      },
      { log_id: mine[1]?.log_id, data: expect.objectContaining({ type: 'feccft', log_id: mine[1]?.log_id }) },
    ]);
    await removeStream(id);
  });

  it('posts JSONLINES as one line per event, with the configured content type', async () => {
    const client = marker();
    const id = await createStream(
      '/lines',
      {},
      { httpContentFormat: 'JSONLINES', httpContentType: 'application/x-ndjson' },
    );
    const after = await requestsFrom('/lines');
    await record(cc(client), cc(client), cc(client));
    const [request, ...more] = after();
    expect(more).toEqual([]);
    expect(request?.headers['content-type']).toBe('application/x-ndjson');
    expect(request?.headers.authorization).toBeUndefined();
    const lines = (request?.body ?? '').split('\n');
    const mine = lines.map((l) => JSON.parse(l) as Item).filter((i) => i.data['client_id'] === client);
    expect(mine).toHaveLength(3);
    expect(mine.map((i) => i.data['type'])).toEqual(['seccft', 'seccft', 'seccft']);
    await removeStream(id);
  });

  it('posts JSONOBJECT as one request per event', async () => {
    const client = marker();
    const id = await createStream('/object', {}, { httpContentFormat: 'JSONOBJECT' });
    await record(cc(client), cc(client, 'feccft'));
    const mine = at('/object')
      .map((r) => JSON.parse(r.body) as Item)
      .filter((i) => i.data['client_id'] === client);
    expect(mine.map((i) => i.data['type'])).toEqual(['seccft', 'feccft']);
    for (const item of mine) expect(item.log_id).toBe(item.data['log_id']);
    await removeStream(id);
  });

  it('delivers only the categories a stream filters on', async () => {
    const client = marker();
    const mgmt = await createStream('/mgmt-only', {
      filters: [{ type: 'category', name: 'management.success' }],
    });
    const failures = await createStream('/fail-only', {
      filters: [
        { type: 'category', name: 'auth.token_exchange.fail' },
        { type: 'category', name: 'management.fail' },
      ],
    });
    await record(cc(client), cc(client, 'feccft'), cc(client, 'sapi'));
    expect(itemsFor('/mgmt-only', client).map((i) => i.data['type'])).toEqual(['sapi']);
    expect(itemsFor('/fail-only', client).map((i) => i.data['type'])).toEqual(['feccft']);
    for (const r of at('/mgmt-only')) {
      expect(itemsOf(r.body).map((i) => i.data['type'])).not.toContain('seccft');
    }
    await removeStream(mgmt);
    await removeStream(failures);
  });

  it('delivers nothing to a paused stream, and resumes once it is active again', async () => {
    const id = await createStream('/paused');
    const patch = (status: string) =>
      api(t.app, { method: 'PATCH', url: `/api/v2/log-streams/${id}`, token, body: { status } });
    expect((await patch('paused')).statusCode).toBe(200);
    const first = marker();
    await record(cc(first));
    expect(itemsFor('/paused', first)).toEqual([]);
    expect((await patch('active')).statusCode).toBe(200);
    const second = marker();
    await record(cc(second));
    expect(itemsFor('/paused', second)).toHaveLength(1);
    expect(itemsFor('/paused', first)).toEqual([]);
    await removeStream(id);
    const third = marker();
    await record(cc(third));
    expect(itemsFor('/paused', third)).toEqual([]);
  });

  it('retries a receiver that fails twice with 500, then delivers the batch exactly once', async () => {
    const client = marker();
    const id = await createStream('/fail-2/retry');
    await record(cc(client), cc(client));
    const attempts = at('/fail-2/retry');
    expect(attempts).toHaveLength(3);
    // Every attempt carries the same batch; only the third was accepted.
    for (const a of attempts)
      expect(itemsOf(a.body).filter((i) => i.data['client_id'] === client)).toHaveLength(2);
    const client2 = marker();
    await record(cc(client2));
    expect(at('/fail-2/retry')).toHaveLength(4);
    expect(itemsFor('/fail-2/retry', client2)).toHaveLength(1);
    await removeStream(id);
  });

  it('gives up after three retries with a warning, and the token endpoint stays fast', async () => {
    const id = await createStream('/always-500/x');
    const before = warnings.length;
    const client = marker();
    const timings: number[] = [];
    for (let i = 0; i < 10; i += 1) {
      t.deps.events.record(cc(client));
      const started = performance.now();
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        payload: {
          grant_type: 'client_credentials',
          client_id: BOOTSTRAP_CLIENT_ID,
          client_secret: BOOTSTRAP_CLIENT_SECRET,
          audience: MGMT_AUDIENCE,
        },
      });
      timings.push(performance.now() - started);
      expect(res.statusCode).toBe(200);
      await t.deps.events.flush();
    }
    // Far below the 70 ms of backoff each failing batch waits through.
    expect(Math.max(...timings)).toBeLessThan(250);
    await t.deps.streamDelivery.idle();
    const batches = at('/always-500/x').length;
    expect(batches % 4).toBe(0);
    expect(batches).toBeGreaterThanOrEqual(4);
    expect(warnings.slice(before)).toContainEqual({
      message: 'log stream delivery failed; events dropped',
      detail: { stream: id, attempts: 4 },
    });
    // Nothing secret or endpoint-specific in the warning.
    expect(JSON.stringify(warnings)).not.toContain(receiver.url);
    await removeStream(id);
  });

  it('does not retry a receiver that refuses the events with a 4xx', async () => {
    const id = await createStream('/status-404/x');
    const before = warnings.length;
    await record(cc(marker()));
    expect(at('/status-404/x')).toHaveLength(1);
    expect(warnings.slice(before)).toEqual([
      { message: 'log stream endpoint refused events', detail: { stream: id, status: 404 } },
    ]);
    await removeStream(id);
  });
});

describe('log stream delivery at shutdown', () => {
  it('cancels waiting retries when the app closes, without waiting out the backoff', async () => {
    const receiver = await startReceiver();
    const warnings: string[] = [];
    const t = await buildTestApp(
      undefined,
      {},
      { logStreamRetryDelaysMs: [60_000], warn: (message) => warnings.push(message) },
    );
    try {
      const token = await t.managementToken();
      const res = await api(t.app, {
        method: 'POST',
        url: '/api/v2/log-streams',
        token,
        body: { type: 'http', sink: { httpEndpoint: `${receiver.url}/always-500/shutdown` } },
      });
      expect(res.statusCode).toBe(201);
      t.deps.events.record({ type: 'seccft', clientId: 'shutdown' });
      await t.deps.events.flush();
      // The first attempt fails; the delivery now waits a minute for its retry.
      await expect.poll(() => receiver.received.length).toBe(1);
    } finally {
      const started = performance.now();
      await t.close();
      expect(performance.now() - started).toBeLessThan(2_000);
      await receiver.close();
    }
    expect(receiver.received).toHaveLength(1);
    expect(warnings).toContain('log stream delivery cancelled at shutdown; events dropped');
  });
});
