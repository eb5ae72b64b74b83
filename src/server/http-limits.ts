import type { Server, ServerOptions } from 'node:http';
import type { ServerSettings } from '../config/schema.js';

/** Node checks request and header deadlines on this period: it bounds how late a slow client is cut. */
const MAX_CHECKING_INTERVAL_MS = 1000;

/**
 * Fastify options for the HTTP server's timeouts. Node's own defaults let a request body trickle in for
 * 300 s and check that only every 30 s, so a client sending one byte every few seconds holds a connection
 * for minutes.
 */
export function httpServerOptions(settings: ServerSettings): {
  requestTimeout: number;
  keepAliveTimeout: number;
  connectionTimeout: number;
  http: ServerOptions;
} {
  return {
    requestTimeout: settings.requestTimeoutMs,
    keepAliveTimeout: settings.keepAliveTimeoutMs,
    connectionTimeout: settings.connectionTimeoutMs,
    http: {
      headersTimeout: settings.headersTimeoutMs,
      connectionsCheckingInterval: Math.min(MAX_CHECKING_INTERVAL_MS, settings.headersTimeoutMs),
    },
  };
}

/** Limits Node takes only on the server object. */
export function limitConnections(server: Server, settings: ServerSettings): void {
  server.maxConnections = settings.maxConnections;
}
