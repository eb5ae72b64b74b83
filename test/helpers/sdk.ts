import { ManagementClient } from 'auth0';
import type { TestBackend } from './backends.js';
import {
  BOOTSTRAP_CLIENT_ID,
  BOOTSTRAP_CLIENT_SECRET,
  buildTestApp,
  type TestApp,
} from './build-test-app.js';

/** The tenant domain the SDKs are given; TEST_ISSUER is https://latchkey.test/. */
export const SDK_DOMAIN = 'latchkey.test';

export interface SdkServer {
  readonly t: TestApp;
  /** auth0 v7's ManagementClient, authenticating with the bootstrap client's credentials. */
  readonly management: ManagementClient;
  /** A new ManagementClient, which fetches a new token (after a key revocation, say). */
  newManagementClient(): ManagementClient;
  /** Every Management API request the SDK sent, as `METHOD /path?query` (token requests excluded). */
  readonly sent: string[];
  /** A fetch that sends `https://latchkey.test/…` to the local http listener; the SDKs take it as an option. */
  readonly fetch: typeof fetch;
  close(): Promise<void>;
}

/**
 * A listening server and a ManagementClient pointed at it. The SDKs always speak https://{domain}; their
 * `fetch` option (honoured by auth0 v7 and by its legacy v4 clients) points them at the http listener.
 */
export async function startSdkServer(backend: TestBackend): Promise<SdkServer> {
  const t = await buildTestApp(backend);
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const address = t.app.server.address();
  const origin = `http://127.0.0.1:${typeof address === 'object' && address ? String(address.port) : '0'}`;
  const sent: string[] = [];
  const local: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    if (url.pathname.startsWith('/api/v2/'))
      sent.push(`${init?.method ?? 'GET'} ${url.pathname}${url.search}`);
    // The legacy clients pass their `agent` option as undici's dispatcher; the local listener needs none.
    const { dispatcher: _dispatcher, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
    return fetch(`${origin}${url.pathname}${url.search}`, rest);
  };
  const newManagementClient = () =>
    new ManagementClient({
      domain: SDK_DOMAIN,
      clientId: BOOTSTRAP_CLIENT_ID,
      clientSecret: BOOTSTRAP_CLIENT_SECRET,
      fetch: local,
      maxRetries: 0,
    });
  return {
    t,
    management: newManagementClient(),
    newManagementClient,
    sent,
    fetch: local,
    close: () => t.close(),
  };
}

/** Collects every item of a v7 Page, following the SDK's own next-page requests. */
export async function collect<T>(page: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of page) items.push(item);
  return items;
}
