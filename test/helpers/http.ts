import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

/** Form-encodes a body the way node-auth0 and openid-client send token requests. */
export function form(fields: Record<string, string>): { payload: string; headers: Record<string, string> } {
  return {
    payload: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  };
}

export interface ApiCall {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  readonly url: string;
  readonly token: string;
  readonly body?: unknown;
}

/** Calls the Management API with a bearer token. */
export function api(app: FastifyInstance, call: ApiCall): Promise<LightMyRequestResponse> {
  return app.inject({
    method: call.method,
    url: call.url,
    headers: { authorization: `Bearer ${call.token}` },
    ...(call.body !== undefined ? { payload: call.body as object } : {}),
  });
}

/** Decodes a JWT's payload without verifying it (assertions verify separately where it matters). */
export function jwtPayload(token: string): Record<string, unknown> {
  const part = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

export function jwtHeader(token: string): Record<string, unknown> {
  const part = token.split('.')[0] ?? '';
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

export interface ClientCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
}

/** Asks for a client-credentials token with client_secret_post; `extra` adds or overrides body fields. */
export function clientCredentials(
  app: FastifyInstance,
  client: ClientCredentials,
  audience: string,
  extra: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: '/oauth/token',
    payload: {
      grant_type: 'client_credentials',
      client_id: client.clientId,
      client_secret: client.clientSecret,
      audience,
      ...extra,
    },
  });
}
