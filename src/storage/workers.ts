import { Worker } from 'node:worker_threads';

/** A worker thread of this folder (`search-worker`, `checkpoint-worker`), from the build or from sources. */
export function startStorageWorker(name: string, workerData: unknown): Worker {
  const here = import.meta.url;
  if (here.endsWith('.js')) return new Worker(new URL(`./${name}.js`, here), { workerData });
  // Running from TypeScript sources (tests, `tsx`): the worker loads its source through tsx, a dev dependency.
  const source = new URL(`./${name}.ts`, here).href;
  return new Worker(
    `import('tsx/esm/api').then((tsx) => tsx.tsImport(${JSON.stringify(source)}, ${JSON.stringify(source)}))`,
    { eval: true, workerData },
  );
}
