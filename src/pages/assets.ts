import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';

/** One script the hosted pages load from Latchkey itself (never from a third party), read once at start. */
interface Asset {
  readonly body: string;
  /** Part of the page's URL for it, so a new version is a new URL and the old one may be cached for good. */
  readonly version: string;
}

// tsc copies no scripts: src/pages and dist/pages sit at the same depth, so both read them from src.
const OWN = fileURLToPath(new URL('../../src/pages/assets/', import.meta.url));

function load(path: string): Asset {
  const body = readFileSync(path, 'utf8');
  return { body, version: createHash('sha256').update(body).digest('base64url').slice(0, 12) };
}

// The package's UMD build defines window.SimpleWebAuthnBrowser; it is what runs WebAuthn in the page.
const browserPackage = dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser'));

const ASSETS: Readonly<Record<string, Asset>> = {
  'simplewebauthn-browser.js': load(join(browserPackage, '../dist/bundle/index.umd.min.js')),
  'login-passkey.js': load(`${OWN}login-passkey.js`),
  'passkey-offer.js': load(`${OWN}passkey-offer.js`),
};
export type AssetName = 'simplewebauthn-browser.js' | 'login-passkey.js' | 'passkey-offer.js';

/** The URL of an asset under `base` (the hosted pages' `…/u/assets/`), with its version. */
export function assetUrl(base: string, name: AssetName): string {
  return `${base}${name}?v=${ASSETS[name]?.version ?? ''}`;
}

/** `GET /u/assets/:name`: the scripts, long cached (their URLs change with their content). */
export const assetRoutes: FastifyPluginAsync = async (app) => {
  app.get<{ Params: { name: string } }>('/u/assets/:name', { schema: { hide: true } }, async (req, reply) => {
    const asset = Object.hasOwn(ASSETS, req.params.name) ? ASSETS[req.params.name] : undefined;
    if (!asset) {
      reply.callNotFound();
      return reply;
    }
    return reply
      .headers({
        'content-type': 'text/javascript; charset=utf-8',
        'cache-control': 'public, max-age=31536000, immutable',
        'x-content-type-options': 'nosniff',
        'cross-origin-resource-policy': 'same-origin',
      })
      .send(asset.body);
  });
};
