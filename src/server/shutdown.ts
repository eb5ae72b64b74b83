import type { FastifyInstance } from 'fastify';

const IDLE_REAP_INTERVAL_MS = 100;

export interface GracefulShutdown {
  readonly app: FastifyInstance;
  /** How long in-flight requests may take to finish before their connections are cut. */
  readonly deadlineMs: number;
  /** Releases what the app used once it no longer serves (Redis, storage). */
  readonly release: () => Promise<void>;
  readonly exit: (code: number) => void;
}

/**
 * On SIGTERM or SIGINT: stop accepting connections, close idle keep-alive ones, let in-flight requests
 * finish, release storage, exit 0. Past the deadline, or on a second signal, cut every connection and
 * exit 1.
 */
export function stopGracefullyOnSignals({ app, deadlineMs, release, exit }: GracefulShutdown): void {
  let stopping = false;
  const cut = (reason: string) => {
    app.log.error(`shutdown: ${reason}; closing every open connection and exiting with code 1`);
    app.server.closeAllConnections();
    exit(1);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      cut(`${signal} received again`);
      return;
    }
    stopping = true;
    app.log.info(
      `shutdown: ${signal} received; finishing in-flight requests (deadline ${deadlineMs / 1000} s)`,
    );
    let pending = 'in-flight requests still running';
    const deadline = setTimeout(() => {
      cut(`${pending} after the ${deadlineMs / 1000} s deadline`);
    }, deadlineMs);
    // Node closes the connections that are idle when it stops listening, not those that become idle later:
    // a keep-alive connection whose last request just finished would otherwise hold the server open.
    const reaper = setInterval(() => {
      app.server.closeIdleConnections();
    }, IDLE_REAP_INTERVAL_MS);
    void (async () => {
      await app.close();
      clearInterval(reaper);
      pending = 'storage still closing';
      await release();
    })().then(
      () => {
        clearTimeout(deadline);
        app.log.info('shutdown: complete');
        exit(0);
      },
      (error: unknown) => {
        clearTimeout(deadline);
        clearInterval(reaper);
        app.log.error({ err: error }, 'shutdown: failed');
        exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
