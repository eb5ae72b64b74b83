import { describe, expect, it } from 'vitest';
import { BadRequest, NotFound } from '../../../src/errors/api.js';
import { AccessDenied, InvalidClient, MfaRequired, OAuthError } from '../../../src/errors/oauth.js';
import { renderApiError } from '../../../src/server/render-api-error.js';
import { renderOAuthError } from '../../../src/server/render-oauth-error.js';

const validation = (context: string, keyword: string, params: object, instancePath = '') =>
  Object.assign(new Error('validation'), {
    validation: [{ keyword, params, instancePath, message: 'must be string' }],
    validationContext: context,
  });

describe('renderApiError (Management API shape)', () => {
  it.each([
    [
      new NotFound('inexistent_user', 'The user does not exist.'),
      404,
      {
        statusCode: 404,
        error: 'Not Found',
        message: 'The user does not exist.',
        errorCode: 'inexistent_user',
      },
    ],
    [
      new BadRequest('invalid_body', 'x'),
      400,
      { statusCode: 400, error: 'Bad Request', message: 'x', errorCode: 'invalid_body' },
    ],
    [
      validation('body', 'additionalProperties', { additionalProperty: 'foo' }),
      400,
      {
        statusCode: 400,
        error: 'Bad Request',
        message: "Payload validation error: 'Additional properties not allowed: foo'.",
        errorCode: 'invalid_body',
      },
    ],
    [
      validation('querystring', 'type', {}, '/page'),
      400,
      {
        statusCode: 400,
        error: 'Bad Request',
        message: "Query validation error: 'must be string' on property page.",
        errorCode: 'invalid_query_string',
      },
    ],
    [
      validation('params', 'type', {}, '/id'),
      400,
      {
        statusCode: 400,
        error: 'Bad Request',
        message: "Path validation error: 'must be string' on property id.",
        errorCode: 'invalid_uri',
      },
    ],
    [
      Object.assign(new Error('big'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }),
      413,
      {
        statusCode: 413,
        error: 'Payload Too Large',
        message: 'Payload too large',
        errorCode: 'payload_too_large',
      },
    ],
    [
      Object.assign(new Error('type'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 }),
      415,
      {
        statusCode: 415,
        error: 'Unsupported Media Type',
        message: 'Unsupported Media Type',
        errorCode: 'unsupported_media_type',
      },
    ],
    [
      Object.assign(new Error('down'), { code: 'ECONNREFUSED' }),
      503,
      {
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'Service temporarily unavailable',
        errorCode: 'temporarily_unavailable',
      },
    ],
    [
      Object.assign(new Error('url'), { code: 'FST_ERR_BAD_URL', statusCode: 400 }),
      400,
      {
        statusCode: 400,
        error: 'Bad Request',
        message: 'Path validation error: the URL is not valid percent-encoded UTF-8.',
        errorCode: 'invalid_uri',
      },
    ],
    [
      Object.assign(new Error('long'), { code: 'FST_ERR_MAX_PARAM_LENGTH', statusCode: 414 }),
      414,
      {
        statusCode: 414,
        error: 'URI Too Long',
        message: 'Path validation error: a path segment is too long.',
        errorCode: 'invalid_uri',
      },
    ],
    [
      Object.assign(new Error('other'), { statusCode: 406 }),
      406,
      { statusCode: 406, error: 'Not Acceptable', message: 'Not Acceptable', errorCode: 'not_acceptable' },
    ],
    [Object.assign(new Error('pg'), { code: '57P01' }), 503, expect.objectContaining({ statusCode: 503 })],
    [
      new OAuthError('server_error', 'secret detail', 500),
      500,
      {
        statusCode: 500,
        error: 'Internal Server Error',
        message: 'Internal Server Error',
        errorCode: 'internal_server_error',
      },
    ],
    [
      new Error('secret detail that must not leak'),
      500,
      {
        statusCode: 500,
        error: 'Internal Server Error',
        message: 'Internal Server Error',
        errorCode: 'internal_server_error',
      },
    ],
  ])('renders %s', (err, status, body) => {
    const rendered = renderApiError(err);
    expect(rendered.status).toBe(status);
    expect(rendered.body).toEqual(body);
  });
});

describe('renderOAuthError (RFC 6749 shape)', () => {
  it("adds the mfa_token to Auth0's mfa_required", () => {
    expect(renderOAuthError(new MfaRequired('the-token', 'why'))).toEqual({
      status: 403,
      headers: { 'cache-control': 'no-store', pragma: 'no-cache' },
      body: {
        error: 'mfa_required',
        error_description: 'Multifactor authentication required',
        mfa_token: 'the-token',
      },
    });
  });

  it('sends the challenge an invalid_client error carries, and no-store everywhere', () => {
    const r = renderOAuthError(new InvalidClient(undefined, undefined, 'Basic realm="oauth"'));
    expect(r).toEqual({
      status: 401,
      headers: {
        'cache-control': 'no-store',
        pragma: 'no-cache',
        'www-authenticate': 'Basic realm="oauth"',
      },
      body: { error: 'invalid_client', error_description: 'Client authentication failed' },
    });
  });

  it('sends no challenge with an invalid_client error that carries none (RFC 6749 §5.2)', () => {
    expect(renderOAuthError(new InvalidClient()).headers).toEqual({
      'cache-control': 'no-store',
      pragma: 'no-cache',
    });
  });

  it.each([
    [new AccessDenied('no'), 403, { error: 'access_denied', error_description: 'no' }],
    [
      Object.assign(new Error('down'), { code: 'ETIMEDOUT' }),
      503,
      { error: 'temporarily_unavailable', error_description: 'Service temporarily unavailable' },
    ],
    [new Error('boom'), 500, { error: 'server_error', error_description: 'internal server error' }],
    [
      Object.assign(new Error('x'), { statusCode: 400 }),
      400,
      { error: 'invalid_request', error_description: 'Malformed request body' },
    ],
    [
      Object.assign(new Error('url'), { code: 'FST_ERR_BAD_URL', statusCode: 400 }),
      400,
      { error: 'invalid_request', error_description: 'The URL is not valid percent-encoded UTF-8' },
    ],
    [
      Object.assign(new Error('long'), { code: 'FST_ERR_MAX_PARAM_LENGTH', statusCode: 414 }),
      414,
      { error: 'invalid_request', error_description: 'URI Too Long' },
    ],
  ])('renders %s', (err, status, body) => {
    const r = renderOAuthError(err);
    expect(r.status).toBe(status);
    expect(r.body).toEqual(body);
    expect(r.headers['cache-control']).toBe('no-store');
  });
});
