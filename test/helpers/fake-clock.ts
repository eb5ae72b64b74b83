import type { Clock } from '../../src/lib/clock.js';

export interface FakeClock extends Clock {
  readonly advance: (ms: number) => void;
  readonly set: (ms: number) => void;
}

export function createFakeClock(start = Date.UTC(2026, 0, 1)): FakeClock {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
    set: (ms) => {
      t = ms;
    },
  };
}
