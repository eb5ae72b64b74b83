import type { FastifyPluginAsync } from 'fastify';
import { discoveryRegistry } from './discovery-registry.js';
import { exposeToParent } from './expose.js';
import { openApiDocument } from './openapi.js';

/**
 * What the server publishes about itself, built from the routes registered after this plugin: the
 * discovery metadata (served by the OAuth surface) and the OpenAPI document.
 */
export const selfDescription: FastifyPluginAsync<{ issuer: string }> = exposeToParent(
  async (app, options) => {
    await app.register(discoveryRegistry, options);
    await app.register(openApiDocument, options);
  },
);
