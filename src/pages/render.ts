import { pooledRandomBase64 } from '../lib/random-pool.js';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { FastifyReply } from 'fastify';
import { PRODUCT_NAME, PRODUCT_VERSION } from '../meta/product.js';
import { message } from './messages.js';
import { DEFAULT_LOOK, imageOrigins, readableOn, type PageLook } from './look.js';

// tsc copies no templates: src/pages and dist/pages sit at the same depth, so both read them from src.
const VIEWS = fileURLToPath(new URL('../../src/pages/views/', import.meta.url));

// Eta escapes every `<%= %>` interpolation; `<%~ %>` (raw) is for the layout's body only.
const eta = new Eta({ views: VIEWS, cache: true, autoEscape: true });

const PRODUCT = { name: PRODUCT_NAME, version: PRODUCT_VERSION };

/** The layout's own words, the same on every page. */
const LAYOUT_TEXT = {
  skip: message('layout.skip'),
  version: message('layout.version', { version: PRODUCT_VERSION }),
  tagline: message('layout.tagline'),
};

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
function contentSecurityPolicy(nonce: string, options: PageOptions, look: PageLook): string {
  const { formAction, frameAncestors } = options;
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    // The tenant's logo and favicon (https only, checked in look.ts) are the only outside images.
    ["img-src 'self' data:", ...imageOrigins(look)].join(' '),
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

declare module 'fastify' {
  interface FastifyRequest {
    /** The tenant's name and branding, loaded for page requests by app.ts (undefined elsewhere). */
    pageLook: PageLook | undefined;
  }
}

export interface RenderedPage {
  readonly headers: Record<string, string>;
  readonly html: string;
}

/** The layout's view of the look: the brand colours with the text colours that read on them. */
function brandOf(look: PageLook) {
  return {
    ...look,
    onPrimary: look.primary === undefined ? undefined : readableOn(look.primary),
    onBackground: look.background === undefined ? undefined : readableOn(look.background),
  };
}

/**
 * Renders `view` from src/pages/views (which names its layout) with the page security headers. Templates
 * also see `it.nonce` (this response's CSP nonce), `it.product` (name, version), `it.look` (the branding) and
 * `it.layoutT` (the layout's words from the message catalogue).
 */
export function renderPage(
  view: string,
  data: Record<string, unknown>,
  look: PageLook = DEFAULT_LOOK,
  options: PageOptions = {},
): RenderedPage {
  const nonce = pooledRandomBase64(18);
  const html = eta.render(view, {
    tenantName: look.tenantName,
    ...data,
    nonce,
    product: PRODUCT,
    look: brandOf(look),
    layoutT: LAYOUT_TEXT,
  });
  const base: Record<string, string> = { ...PAGE_BASE_HEADERS };
  // A framed page cannot carry X-Frame-Options: DENY (its CSP frame-ancestors names who may frame it).
  if (options.frameAncestors !== undefined) delete base['x-frame-options'];
  if (options.keepOpener === true) delete base['cross-origin-opener-policy'];
  return {
    html,
    headers: {
      ...base,
      'content-security-policy': contentSecurityPolicy(nonce, options, look),
      // A nonce is good for one response only: a cached copy would replay it.
      'cache-control': 'no-store',
      'content-type': 'text/html; charset=utf-8',
    },
  };
}

/** Renders `view` in the request's look (see renderPage) and sends it. */
export function sendPage(
  reply: FastifyReply,
  view: string,
  data: Record<string, unknown>,
  options: PageOptions = {},
): FastifyReply {
  const page = renderPage(view, data, reply.request.pageLook, options);
  return reply.headers(page.headers).send(page.html);
}
