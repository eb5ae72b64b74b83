import Fastify, { type RouteOptions } from 'fastify';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { managementPlugin } from '../../../src/management/plugin.js';
import { MANAGEMENT_PREFIX } from '../../../src/server/surface-errors.js';
import { createValidatorCompiler } from '../../../src/server/validators.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';

type Json = Record<string, unknown>;
const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
const ERROR = {
  type: 'object',
  required: ['statusCode', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string' },
    message: { type: 'string' },
    errorCode: { type: 'string' },
  },
  description: "An error, in the Management API's shape",
};
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Structural checks of an OpenAPI 3.1 document (no validator package is installed); returns the problems. */
function openApiProblems(doc: Json): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, problem: string) => {
    if (!ok) problems.push(problem);
  };
  const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
  check(typeof doc['openapi'] === 'string' && /^3\.1\.\d+$/.test(doc['openapi']), 'openapi is not 3.1.x');
  const info = doc['info'];
  check(isObject(info) && typeof info['title'] === 'string' && typeof info['version'] === 'string', 'info');
  const schemes = isObject(doc['components']) ? doc['components']['securitySchemes'] : undefined;
  const paths = doc['paths'];
  if (!isObject(paths)) return [...problems, 'paths is not an object'];
  const operationIds = new Set<string>();
  for (const [path, item] of Object.entries(paths)) {
    check(path.startsWith('/') && !path.includes(':'), `${path}: not a templated path`);
    if (!isObject(item)) {
      problems.push(`${path}: path item is not an object`);
      continue;
    }
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const [method, operation] of Object.entries(item)) {
      const where = `${method.toUpperCase()} ${path}`;
      check(METHODS.includes(method), `${where}: unknown method`);
      if (!isObject(operation)) continue;
      const responses = operation['responses'];
      check(isObject(responses) && Object.keys(responses).length > 0, `${where}: no responses`);
      for (const [code, response] of Object.entries(isObject(responses) ? responses : {})) {
        check(/^([1-5](\d\d|XX)|default)$/.test(code), `${where}: response key ${code}`);
        check(
          isObject(response) && typeof response['description'] === 'string',
          `${where} ${code}: description`,
        );
      }
      const parameters = (operation['parameters'] ?? []) as Json[];
      check(Array.isArray(parameters), `${where}: parameters is not an array`);
      const seen = new Set<string>();
      for (const p of parameters) {
        const key = `${String(p['in'])}:${String(p['name'])}`;
        check(!seen.has(key), `${where}: parameter ${key} twice`);
        seen.add(key);
        check(
          ['query', 'header', 'path', 'cookie'].includes(String(p['in'])),
          `${where}: parameter ${key} in`,
        );
        check(isObject(p['schema']) || isObject(p['content']), `${where}: parameter ${key} has no schema`);
        if (p['in'] === 'path') check(p['required'] === true, `${where}: path parameter ${key} not required`);
      }
      for (const name of templated)
        check(seen.has(`path:${String(name)}`), `${where}: {${String(name)}} undeclared`);
      if (operation['requestBody'] !== undefined) {
        const body = operation['requestBody'];
        check(isObject(body) && isObject(body['content']), `${where}: requestBody without content`);
      }
      for (const requirement of (operation['security'] ?? []) as Json[]) {
        for (const name of Object.keys(requirement)) {
          check(isObject(schemes) && isObject(schemes[name]), `${where}: unknown security scheme ${name}`);
        }
      }
      const id = operation['operationId'];
      if (typeof id === 'string') {
        check(!operationIds.has(id), `${where}: operationId ${id} twice`);
        operationIds.add(id);
      }
    }
  }
  const text = JSON.stringify(doc);
  for (const [, ref] of text.matchAll(/"\$ref":"([^"]+)"/g)) {
    const target = String(ref)
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>(
        (node, part) => (isObject(node) ? node[part.replaceAll('~1', '/').replaceAll('~0', '~')] : undefined),
        doc,
      );
    check(String(ref).startsWith('#/') && target !== undefined, `$ref ${String(ref)} does not resolve`);
  }
  return problems;
}

/** Every route the Management plugin registers, with the schemas it was declared with. */
async function managementRoutes(t: TestApp): Promise<RouteOptions[]> {
  const routes: RouteOptions[] = [];
  const probe = Fastify();
  probe.setValidatorCompiler(createValidatorCompiler());
  probe.addHook('onRoute', (route) => {
    if (route.method !== 'HEAD') routes.push(route);
  });
  await probe.register(managementPlugin, { deps: t.deps, prefix: MANAGEMENT_PREFIX });
  await probe.ready();
  await probe.close();
  return routes;
}

/**
 * The route schema as OpenAPI shows it: plain JSON, with the map-shaped `patternProperties` that TypeBox's
 * Record makes written as the equivalent `additionalProperties` (@fastify/swagger does this).
 */
function plain(schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema), (_key, value: unknown) => {
    if (typeof value !== 'object' || value === null || !('patternProperties' in value)) return value;
    const { patternProperties, ...rest } = value as { patternProperties: Record<string, unknown> };
    const patterns = Object.values(patternProperties);
    expect(patterns).toHaveLength(1);
    return { ...rest, additionalProperties: patterns[0] };
  });
}

describe.each(testBackends())('the OpenAPI document on $name', (backend) => {
  let t: TestApp;
  let doc: Json;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
  });
  afterAll(async () => {
    await t.close();
  });

  it('is served without a token, cacheable, and is structurally valid OpenAPI 3.1', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(doc['info']).toEqual({
      title: 'Latchkey API',
      version: VERSION,
      description:
        "The Authentication API and the Management API v2 of a Latchkey server, in Auth0's wire formats.",
    });
    expect(doc['servers']).toEqual([{ url: TEST_ISSUER.slice(0, -1) }]);
    expect(openApiProblems(doc)).toEqual([]);
  });

  it('describes every Management route with its parameters, request body and responses', async () => {
    const routes = await managementRoutes(t);
    expect(routes.length).toBeGreaterThan(50);
    const paths = doc['paths'] as Record<string, Record<string, Json>>;
    for (const route of routes) {
      const path = route.url.replace(/:(\w+)/g, '{$1}');
      const method = String(route.method).toLowerCase();
      const operation = paths[path]?.[method];
      const where = `${method} ${path}`;
      expect(operation, where).toBeDefined();
      if (!operation) continue;
      expect(operation['tags'], where).toEqual([`Management API: ${path.split('/')[3]}`]);
      expect(operation['security'], where).toEqual([{ managementToken: [] }]);
      const schema = route.schema as Record<string, Json | undefined>;
      const parameters = (operation['parameters'] ?? []) as Json[];
      const declared = (location: string, source: Json | undefined) =>
        Object.keys((source?.['properties'] ?? {}) as Json).map((name) => `${location}:${name}`);
      expect(parameters.map((p) => `${String(p['in'])}:${String(p['name'])}`).sort(), where).toEqual(
        [...declared('path', schema['params']), ...declared('query', schema['querystring'])].sort(),
      );
      for (const p of parameters) {
        const source = p['in'] === 'path' ? schema['params'] : schema['querystring'];
        const properties = source?.['properties'] as Record<string, unknown>;
        expect(p['schema'], `${where} ${String(p['name'])}`).toEqual(plain(properties[String(p['name'])]));
      }
      const body = operation['requestBody'] as { content: Record<string, { schema: unknown }> } | undefined;
      if (schema['body'] === undefined) expect(body, where).toBeUndefined();
      else expect(body?.content['application/json']?.schema, where).toEqual(plain(schema['body']));
      const responses = operation['responses'] as Record<
        string,
        { content?: Record<string, { schema: unknown }> }
      >;
      const declaredResponses = (schema['response'] ?? {}) as Record<string, unknown>;
      expect(Object.keys(responses).sort(), where).toEqual(
        [...Object.keys(declaredResponses), 'default'].sort(),
      );
      for (const [code, response] of Object.entries(declaredResponses)) {
        expect(responses[code]?.content?.['application/json']?.schema, `${where} ${code}`).toEqual(
          plain(response),
        );
      }
      // Without a declared success response the document must not claim one (Fastify's default is 200).
      expect(responses['default'], where).toEqual(
        Object.keys(declaredResponses).length > 0
          ? {
              description: "An error, in the Management API's shape",
              content: { 'application/json': { schema: ERROR } },
            }
          : { description: 'Not described: the route declares no response schema' },
      );
    }
  });

  it('lists the Authentication API, and leaves out the pages and itself', () => {
    const paths = Object.keys(doc['paths'] as Json);
    // In any order: it follows plugin registration, which is not the document's concern.
    expect(paths.filter((p) => p.startsWith('/me/v1/')).sort()).toEqual([
      '/me/v1/authentication-methods',
      '/me/v1/authentication-methods/{id}',
      '/me/v1/authentication-methods/{id}/verify',
      '/me/v1/factors',
    ]);
    const others = paths.filter((p) => !p.startsWith(`${MANAGEMENT_PREFIX}/`) && !p.startsWith('/me/v1/'));
    expect(others.sort()).toEqual(
      [
        '/.well-known/openid-configuration',
        '/.well-known/jwks.json',
        '/userinfo',
        '/oauth/revoke',
        '/oauth/token',
        '/passkey/challenge',
        '/passkey/register',
        '/dbconnections/signup',
        '/dbconnections/change_password',
        '/mfa/authenticators',
        '/mfa/authenticators/{id}',
        '/mfa/associate',
        '/mfa/challenge',
      ].sort(),
    );
  });
});
