import type { FastifyPluginAsync, FastifyPluginOptions } from 'fastify';

/**
 * Marks a plugin as not encapsulated, as `fastify-plugin` does: its hooks and decorators apply to the
 * instance that registers it, so they see the routes of every plugin registered after it.
 */
export function exposeToParent<Options extends FastifyPluginOptions>(
  plugin: FastifyPluginAsync<Options>,
): FastifyPluginAsync<Options> {
  return Object.assign(plugin, { [Symbol.for('skip-override')]: true });
}
