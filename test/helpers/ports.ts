import { createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 that nothing listens on now, as the OS hands it out. Test files run in parallel:
 * ports picked at random from fixed ranges collided (EADDRINUSE), ports from the OS do not.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => {
        resolve(port);
      });
    });
  });
}
