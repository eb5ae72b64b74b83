import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_SERVER_SETTINGS, type ServerSettings } from '../../src/config/schema.js';
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js';
import { openRaw, type RawConnection } from '../helpers/raw-socket.js';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Socket-level limits belong to the HTTP server, not to storage: one backend is enough.
describe('HTTP server limits on a listening server', () => {
  let t: TestApp | undefined;
  const dripping: NodeJS.Timeout[] = [];
  afterEach(async () => {
    for (const timer of dripping.splice(0)) clearInterval(timer);
    await t?.close();
    t = undefined;
  });

  const listen = async (server: Partial<ServerSettings>): Promise<number> => {
    t = await buildTestApp(undefined, { server: { ...DEFAULT_SERVER_SETTINGS, ...server } });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    return address.port;
  };
  const drip = (raw: RawConnection, text: string, everyMs: number) => {
    let i = 0;
    dripping.push(
      setInterval(() => {
        if (raw.socket.writable && i < text.length) raw.socket.write(text.charAt(i++));
      }, everyMs),
    );
  };

  it('cuts off a request body that trickles in with 408 once the request timeout passes', async () => {
    const port = await listen({ requestTimeoutMs: 1000, headersTimeoutMs: 500 });
    const raw = await openRaw(port);
    raw.socket.write(
      'POST /oauth/token HTTP/1.1\r\nHost: x\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 100\r\n\r\n',
    );
    drip(raw, 'grant_type=client_credentials'.padEnd(100, 'x'), 200);
    const closedAfter = await raw.closedAfter;
    expect(closedAfter).toBeGreaterThanOrEqual(1000);
    expect(closedAfter).toBeLessThan(2500);
    expect(raw.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
  });

  it('cuts off the review’s attack, a body sent one byte every 5 s, at the default 30 s request timeout', async () => {
    const port = await listen({});
    const raw = await openRaw(port);
    raw.socket.write(
      'POST /oauth/token HTTP/1.1\r\nHost: x\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 100\r\n\r\n',
    );
    // Each byte keeps the socket from idling, so only the request deadline can end it (issue 9: 95 s and more).
    drip(raw, 'grant_type=client_credentials'.padEnd(100, 'x'), 5000);
    const closedAfter = await raw.closedAfter;
    expect(closedAfter).toBeGreaterThanOrEqual(30_000);
    expect(closedAfter).toBeLessThan(32_500);
    expect(raw.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
  }, 45_000);

  it('cuts off headers that trickle in once the headers timeout passes', async () => {
    const port = await listen({ requestTimeoutMs: 5000, headersTimeoutMs: 500 });
    const raw = await openRaw(port);
    raw.socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
    drip(raw, 'x-slow: a\r\n'.repeat(50), 100);
    const closedAfter = await raw.closedAfter;
    expect(closedAfter).toBeGreaterThanOrEqual(500);
    expect(closedAfter).toBeLessThan(2000);
    expect(raw.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
  });

  it('closes a keep-alive connection left idle for the keep-alive timeout', async () => {
    const port = await listen({ keepAliveTimeoutMs: 400 });
    const raw = await openRaw(port);
    raw.socket.write('GET /.well-known/jwks.json HTTP/1.1\r\nHost: x\r\n\r\n');
    const closedAfter = await raw.closedAfter;
    expect(raw.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\nConnection: keep-alive\r\n/i);
    expect(closedAfter).toBeGreaterThanOrEqual(400);
    expect(closedAfter).toBeLessThan(1500);
  });

  it('refuses connections beyond the connection cap, and accepts again once one closes', async () => {
    const port = await listen({ maxConnections: 2 });
    const first = await openRaw(port);
    const second = await openRaw(port);
    const third = await openRaw(port);
    expect(await third.closedAfter).toBeLessThan(500);
    expect(third.received()).toBe('');
    for (const raw of [first, second]) {
      raw.socket.write('GET /.well-known/jwks.json HTTP/1.1\r\nHost: x\r\n\r\n');
    }
    await pause(200);
    expect([first, second].map((raw) => raw.received().slice(0, 15))).toEqual([
      'HTTP/1.1 200 OK',
      'HTTP/1.1 200 OK',
    ]);
    first.socket.destroy();
    await first.closedAfter;
    const fourth = await openRaw(port);
    fourth.socket.write('GET /.well-known/jwks.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await fourth.closedAfter;
    expect(fourth.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    second.socket.destroy();
  });
});
