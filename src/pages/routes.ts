import type { FastifyPluginAsync } from 'fastify';
import { OPENAPI_PATH } from '../meta/openapi.js';
import { PRODUCT_NAME, PRODUCT_VERSION } from '../meta/product.js';
import type { Deps } from '../server/deps.js';
import { MANAGEMENT_PREFIX } from '../server/surface-errors.js';
import { prefersJson } from './negotiate.js';
import { PAGE_BASE_HEADERS, sendPage } from './render.js';

/** The server's own pages: today the front page at the issuer URL (later the dashboard). */
export const pageRoutes: FastifyPluginAsync<{ deps: Deps }> = async (app, { deps }) => {
  const { issuer } = deps.config;
  const url = (path: string) => `${issuer}${path.slice(1)}`;

  app.get('/', { schema: { hide: true } }, async (req, reply) => {
    const discovery = app.discoveryDocument();
    const summary = {
      name: PRODUCT_NAME,
      version: PRODUCT_VERSION,
      issuer,
      openid_configuration: url('/.well-known/openid-configuration'),
      jwks_uri: String(discovery['jwks_uri']),
      openapi: url(OPENAPI_PATH),
    };
    void reply.header('vary', 'accept');
    if (prefersJson(req.headers.accept)) {
      return reply
        .headers({ ...PAGE_BASE_HEADERS, 'cache-control': 'no-cache' })
        .type('application/json; charset=utf-8')
        .send(summary);
    }
    return sendPage(reply, 'home', {
      issuer,
      documents: [
        {
          title: 'OpenID configuration',
          description:
            'The endpoints, grant types, client authentication methods and algorithms served here.',
          url: summary.openid_configuration,
        },
        {
          title: 'JSON Web Key Set',
          description: 'The public keys that verify the tokens this server signs.',
          url: summary.jwks_uri,
        },
        {
          title: 'OpenAPI document',
          description: 'Every operation of the Authentication API and the Management API, with its schemas.',
          url: summary.openapi,
        },
      ].map((doc) => ({ ...doc, path: `/${doc.url.slice(issuer.length)}` })),
      endpoints: [
        ...servedEndpoints(discovery),
        { label: 'Management API', url: url(`${MANAGEMENT_PREFIX}/`) },
      ],
    });
  });
};

/** The `*_endpoint` entries of the discovery document, labelled: only what is served appears. */
function servedEndpoints(discovery: Record<string, unknown>): { label: string; url: string }[] {
  return Object.entries(discovery).flatMap(([key, value]) => {
    if (!key.endsWith('_endpoint') || typeof value !== 'string') return [];
    const words = key.slice(0, -'_endpoint'.length).replaceAll('_', ' ');
    return [{ label: words.charAt(0).toUpperCase() + words.slice(1), url: value }];
  });
}
