// Preloaded into the server by bench/availability.js (node --import): reports over IPC how long the event
// loop was held since the last reset, and the process's memory.
import { monitorEventLoopDelay } from 'node:perf_hooks';

const delay = monitorEventLoopDelay({ resolution: 5 });
delay.enable();

const memory = () => {
  const { rss, heapUsed } = process.memoryUsage();
  return { rssMb: rss / 2 ** 20, heapMb: heapUsed / 2 ** 20 };
};

process.on('message', (message) => {
  if (message === 'reset') {
    delay.reset();
    process.send?.({ reset: true });
  } else if (message === 'report') {
    process.send?.({ maxHoldMs: delay.max / 1e6, ...memory() });
  } else if (message === 'gc') {
    globalThis.gc?.();
    process.send?.(memory());
  }
});
