import { readFileSync } from 'node:fs';

export const PRODUCT_NAME = 'Latchkey';

// src/meta and dist/meta sit at the same depth, so this finds package.json from source and from a build.
const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export const PRODUCT_VERSION = packageJson.version;
