import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { FastifyReply } from 'fastify';
import { PRODUCT_NAME, PRODUCT_VERSION } from '../meta/product.js';

// tsc copies no templates: src/pages and dist/pages sit at the same depth, so both read them from src.
const VIEWS = fileURLToPath(new URL('../../src/pages/views/', import.meta.url));

// Eta escapes every `<%= %>` interpolation; `<%~ %>` (raw) is for the layout's body only.
const eta = new Eta({ views: VIEWS, cache: true, autoEscape: true });

const PRODUCT = { name: PRODUCT_NAME, version: PRODUCT_VERSION };

/** Headers every response of a page route carries, whatever its representation. */
export const PAGE_BASE_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

/**
 * A strict CSP: nothing loads unless the page names it. Inline <style> and <script> run only with this
 * response's nonce, and no third-party origin is allowed.
 */
function contentSecurityPolicy(
  nonce: string,
  formAction: string | undefined,
  frameAncestors: string | undefined,
): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "base-uri 'none'",
    formAction === undefined ? "form-action 'self'" : `form-action 'self' ${formAction}`,
    `frame-ancestors ${frameAncestors ?? "'none'"}`,
  ].join('; ');
}

export interface PageOptions {
  /** One more origin the page's forms may post to (a form_post response posts to the client's callback). */
  readonly formAction?: string;
  /**
   * The one origin that may frame the page (the web_message answer, posted from a hidden iframe to the
   * application that embeds it); every other page may be framed by nobody.
   */
  readonly frameAncestors?: string;
  /**
   * The page belongs to a popup that must answer its opener (web_message from auth0-spa-js's
   * loginWithPopup): no Cross-Origin-Opener-Policy, which would cut the popup from the application.
   */
  readonly keepOpener?: boolean;
}

/**
 * Renders `view` from src/pages/views (which names its layout) and sends it with the page security
 * headers. Templates also see `it.nonce` (this response's CSP nonce) and `it.product` (name, version).
 */
export function sendPage(
  reply: FastifyReply,
  view: string,
  data: Record<string, unknown>,
  options: PageOptions = {},
): FastifyReply {
  const nonce = randomBytes(18).toString('base64');
  const html = eta.render(view, { ...data, nonce, product: PRODUCT });
  const { frameAncestors } = options;
  const base: Record<string, string> = { ...PAGE_BASE_HEADERS };
  // A framed page cannot carry X-Frame-Options: DENY (its CSP frame-ancestors names who may frame it).
  if (frameAncestors !== undefined) delete base['x-frame-options'];
  if (options.keepOpener === true) delete base['cross-origin-opener-policy'];
  return reply
    .headers({
      ...base,
      'content-security-policy': contentSecurityPolicy(nonce, options.formAction, frameAncestors),
      // A nonce is good for one response only: a cached copy would replay it.
      'cache-control': 'no-store',
    })
    .type('text/html; charset=utf-8')
    .send(html);
}
