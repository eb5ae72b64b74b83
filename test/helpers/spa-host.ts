import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const SPA_BUNDLE = readFileSync('node_modules/@auth0/auth0-spa-js/dist/auth0-spa-js.production.js', 'utf8');

/** A single-page application's host for browser tests. */
export interface SpaHost {
  readonly server: Server;
  /** `http://localhost:<port>`: a secure context whose host can be a WebAuthn rp id (IP addresses cannot). */
  readonly origin: string;
}

/**
 * An application's host: one page titled `title` that loads auth0-spa-js's published bundle, answered at every
 * path (`/`, the callback), listening on 127.0.0.1 (`port` 0: any free one).
 */
export async function startSpaHost(title: string, port = 0): Promise<SpaHost> {
  const server = createServer((req, res) => {
    if (req.url === '/auth0-spa-js.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(SPA_BUNDLE);
      return;
    }
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(
        `<!doctype html><html lang="en"><title>${title}</title><h1>${title}</h1>` +
          '<script src="/auth0-spa-js.js"></script></html>',
      );
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, origin: `http://localhost:${String((server.address() as AddressInfo).port)}` };
}
