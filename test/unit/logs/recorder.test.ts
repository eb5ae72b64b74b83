import { describe, expect, it } from 'vitest';
import type { LogEvent, NewLogEvent } from '../../../src/domain/log-event.js';
import { createEventRecorder, type LogSink } from '../../../src/logs/recorder.js';
import { scrubDetails, scrubEvent } from '../../../src/logs/scrub.js';

function memorySink(failFirst = 0) {
  const stored: LogEvent[] = [];
  const batches: number[] = [];
  let failures = failFirst;
  const prunes: number[] = [];
  const sink: LogSink = {
    insertMany(events) {
      if (failures > 0) {
        failures -= 1;
        return Promise.reject(new Error('database unreachable'));
      }
      batches.push(events.length);
      stored.push(...events);
      return Promise.resolve();
    },
    pruneBefore(at) {
      prunes.push(at);
      return Promise.resolve(0);
    },
  };
  return { sink, stored, batches, prunes };
}

describe('event recorder', () => {
  it('writes what is recorded in one batch, with ordered ids and the time, and tells listeners', async () => {
    const { sink, stored, batches } = memorySink();
    const warnings: string[] = [];
    const recorder = createEventRecorder({
      sink,
      now: () => 1_700_000_000_000,
      retentionMs: 1000,
      warn: (m) => warnings.push(m),
    });
    const seen: string[][] = [];
    recorder.onStored((events) => seen.push(events.map((e) => e.type)));
    recorder.record({ type: 's', userId: 'auth0|1' });
    recorder.record({ type: 'sepft', userId: 'auth0|1' });
    recorder.record({ type: 'seccft' });
    expect(stored).toEqual([]);
    await recorder.flush();
    expect(batches).toEqual([3]);
    expect(stored.map((e) => e.type)).toEqual(['s', 'sepft', 'seccft']);
    expect(stored.every((e) => e.at === 1_700_000_000_000)).toBe(true);
    const ids = stored.map((e) => e.logId);
    expect(ids).toEqual([...ids].sort());
    expect(new Set(ids).size).toBe(3);
    expect(ids[0]).toMatch(/^90020231114221320000\d{36}$/);
    expect(seen).toEqual([['s', 'sepft', 'seccft']]);
    expect(warnings).toEqual([]);
  });

  it('keeps events while the database fails and stores them once it answers', async () => {
    const { sink, stored } = memorySink(2);
    const warnings: string[] = [];
    const recorder = createEventRecorder({
      sink,
      now: Date.now,
      retentionMs: 1000,
      warn: (m) => warnings.push(m),
    });
    recorder.record({ type: 'f' });
    await recorder.flush();
    expect(stored.map((e) => e.type)).toEqual(['f']);
    expect(warnings).toEqual([
      'tenant log events not stored; will retry',
      'tenant log events not stored; will retry',
    ]);
    await recorder.close();
  });

  it('holds at most maxQueued events, dropping the oldest and saying so', async () => {
    const { sink, stored } = memorySink();
    const warnings: string[] = [];
    const recorder = createEventRecorder({
      sink,
      now: Date.now,
      retentionMs: 1000,
      warn: (m) => warnings.push(m),
      maxQueued: 3,
    });
    for (const type of ['s', 'f', 'fp', 'fu', 'sapi'] as const) recorder.record({ type });
    await recorder.close();
    expect(stored.map((e) => e.type)).toEqual(['fp', 'fu', 'sapi']);
    // Two events dropped, one warning: a flood of drops is not a flood of warnings.
    expect(warnings).toEqual(['tenant log queue full: oldest events dropped']);
  });

  it('prunes events older than the retention period as it writes', async () => {
    const { sink, prunes } = memorySink();
    const recorder = createEventRecorder({
      sink,
      now: () => 10_000_000,
      retentionMs: 60_000,
      warn: () => undefined,
    });
    recorder.record({ type: 's' });
    await recorder.flush();
    expect(prunes).toEqual([10_000_000 - 60_000]);
  });
});

describe('scrubbing', () => {
  it('drops credential-named fields at any depth and keeps the rest', () => {
    expect(
      scrubDetails({
        password: 'p',
        client_secret: 's',
        refresh_token: 't',
        nested: { otp_code: '123456', authorization: 'Bearer x', ok: 'kept', list: [{ apiKey: 'k', n: 1 }] },
        response: { statusCode: 201 },
        error: 'invalid_grant',
      }),
    ).toEqual({
      nested: { ok: 'kept', list: [{ n: 1 }] },
      response: { statusCode: 201 },
      error: 'invalid_grant',
    });
  });

  it('cuts long strings, long lists and deep nesting', () => {
    let deep: Record<string, unknown> = { leaf: 'x' };
    for (let i = 0; i < 10; i++) deep = { down: deep };
    const out = scrubDetails({
      long: 'a'.repeat(5000),
      many: Array.from({ length: 500 }, (_, i) => i),
      deep,
    });
    expect((out['long'] as string).length).toBe(1001);
    expect(out['many']).toHaveLength(50);
    expect(JSON.stringify(out)).not.toContain('leaf');
  });

  it('cuts caller-controlled top-level strings', () => {
    const input: NewLogEvent = { type: 'f', userAgent: 'u'.repeat(10_000), userName: 'jane' };
    const event = scrubEvent(input);
    expect(event.userAgent).toHaveLength(601);
    expect(event.userName).toBe('jane');
  });
});
