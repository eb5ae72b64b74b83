import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    setupFiles: ['test/helpers/cheap-hashes.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // At least two files at a time, even on two cores (vitest's default there is one): most tests wait on argon2's thread
    // pool, the databases or Chromium. Measured on a 2-core machine: 948 s with one worker, 769 s with two.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // Each worker keeps its modules from one file to the next: importing the app afresh for each of 160 files cost
    // ~240 s of CPU (615 s -> 412 s for the suite on two cores). Tests share no module state on purpose: no
    // vi.mock/spyOn, each file builds its own app and stores.
    isolate: false,
  },
});
