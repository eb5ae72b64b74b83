import type { FastifyPluginAsync } from 'fastify';
import { OPENAPI_PATH } from '../meta/openapi.js';
import { PRODUCT_NAME, PRODUCT_VERSION } from '../meta/product.js';
import type { Deps } from '../server/deps.js';
import { MANAGEMENT_PREFIX } from '../server/surface-errors.js';
import { message, type MessageKey } from './messages.js';
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
      t: {
        status: message('home.status'),
        title: message('home.title'),
        lede: message('home.lede'),
        issuer: message('home.issuer'),
        documents: message('home.documents'),
        endpoints: message('home.endpoints'),
      },
      documents: [
        {
          title: message('home.openid_configuration'),
          description: message('home.openid_configuration_text'),
          url: summary.openid_configuration,
        },
        {
          title: message('home.jwks'),
          description: message('home.jwks_text'),
          url: summary.jwks_uri,
        },
        {
          title: message('home.openapi'),
          description: message('home.openapi_text'),
          url: summary.openapi,
        },
      ].map((doc) => ({ ...doc, path: `/${doc.url.slice(issuer.length)}` })),
      endpoints: [
        ...servedEndpoints(discovery),
        { label: message('home.management_api'), url: url(`${MANAGEMENT_PREFIX}/`) },
      ],
    });
  });
};

const ENDPOINT_LABELS: Readonly<Record<string, MessageKey>> = {
  authorization_endpoint: 'home.endpoint.authorization',
  token_endpoint: 'home.endpoint.token',
  userinfo_endpoint: 'home.endpoint.userinfo',
  revocation_endpoint: 'home.endpoint.revocation',
  end_session_endpoint: 'home.endpoint.end_session',
};

/** The `*_endpoint` entries of the discovery document, labelled: only what is served appears. */
function servedEndpoints(discovery: Record<string, unknown>): { label: string; url: string }[] {
  return Object.entries(discovery).flatMap(([key, value]) => {
    if (!key.endsWith('_endpoint') || typeof value !== 'string') return [];
    const known = ENDPOINT_LABELS[key];
    if (known !== undefined) return [{ label: message(known), url: value }];
    // An endpoint added to discovery before the catalogue knows it: its key, in words.
    const words = key.slice(0, -'_endpoint'.length).replaceAll('_', ' ');
    return [{ label: words.charAt(0).toUpperCase() + words.slice(1), url: value }];
  });
}
