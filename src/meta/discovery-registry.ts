import type { FastifyPluginAsync } from 'fastify';
import {
  buildDiscoveryDocument,
  type DiscoveryContribution,
  type DiscoveryValue,
} from '../oauth/discovery.js';
import { exposeToParent } from './expose.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What this route adds to /.well-known/openid-configuration. */
    discovery?: DiscoveryContribution;
  }
  interface FastifyInstance {
    /** The OpenID Provider metadata of every route registered with a `discovery` entry. */
    discoveryDocument(): Record<string, DiscoveryValue>;
  }
}

/**
 * Collects the `discovery` entries of every route registered after it, so the discovery document lists
 * exactly what is served. Register it before the surfaces.
 */
export const discoveryRegistry: FastifyPluginAsync<{ issuer: string }> = exposeToParent(
  async (app, { issuer }) => {
    const contributions: { path: string; contribution: DiscoveryContribution }[] = [];
    let document: Record<string, DiscoveryValue> | undefined;
    app.addHook('onRoute', (route) => {
      const contribution = route.config?.discovery;
      if (contribution === undefined || route.method === 'HEAD') return;
      contributions.push({ path: route.url, contribution });
      document = undefined;
    });
    app.decorate('discoveryDocument', () => (document ??= buildDiscoveryDocument(issuer, contributions)));
  },
);
