import { STATUS_CODES } from 'node:http';
import type { ErrorObject } from 'ajv';
import { AppError } from '../errors/app-error.js';
import { ServiceUnavailable, TooManyRequests } from '../errors/api.js';
import { isUnavailable } from './unavailable.js';

export interface RenderedError {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: { statusCode: number; error: string; message: string; errorCode: string };
}

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  validation?: ErrorObject[];
  validationContext?: string;
}

interface ValidationContext {
  readonly code: string;
  readonly label: string;
}

const CONTEXT: Readonly<Record<string, ValidationContext | undefined>> = {
  body: { code: 'invalid_body', label: 'Payload' },
  querystring: { code: 'invalid_query_string', label: 'Query' },
  params: { code: 'invalid_uri', label: 'Path' },
  headers: { code: 'invalid_headers', label: 'Headers' },
};

/** Management API error body: `{statusCode, error, message, errorCode}` (spec 4.2). */
export function renderApiError(err: unknown): RenderedError {
  if (err instanceof AppError && (err.status < 500 || err instanceof ServiceUnavailable)) {
    const rendered = make(err.status, err.message, err.code);
    const challenge = (err as { challenge?: unknown }).challenge;
    if (typeof challenge === 'string') return { ...rendered, headers: { 'www-authenticate': challenge } };
    const retryAfter = err instanceof TooManyRequests ? err.retryAfterSeconds : undefined;
    return retryAfter === undefined
      ? rendered
      : { ...rendered, headers: { 'retry-after': String(retryAfter) } };
  }
  const e = (typeof err === 'object' && err !== null ? err : {}) as FastifyLikeError;
  if (e.validation) {
    const ctx = CONTEXT[e.validationContext ?? 'body'] ?? { code: 'invalid_body', label: 'Payload' };
    return make(400, `${ctx.label} validation error: ${describeValidation(e.validation)}`, ctx.code);
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return make(413, 'Payload too large', 'payload_too_large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return make(415, 'Unsupported Media Type', 'unsupported_media_type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return make(400, 'Payload validation error: body must not be empty.', 'invalid_body');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return make(400, 'Invalid Content-Length', 'invalid_body');
    case 'FST_ERR_BAD_URL':
      return make(400, 'Path validation error: the URL is not valid percent-encoded UTF-8.', 'invalid_uri');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return make(414, 'Path validation error: a path segment is too long.', 'invalid_uri');
    default:
      break;
  }
  if (e.statusCode === 400 || (err instanceof SyntaxError && e.statusCode === undefined)) {
    return make(400, 'Invalid request payload JSON format', 'invalid_body');
  }
  if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
    const text = STATUS_CODES[e.statusCode] ?? 'Error';
    // Same spelling as not_found, payload_too_large, too_many_requests.
    return make(e.statusCode, text, text.toLowerCase().replaceAll(/[^a-z]+/g, '_'));
  }
  if (isUnavailable(err)) return make(503, 'Service temporarily unavailable', 'temporarily_unavailable');
  // Every Management error body carries an errorCode (SDKs branch on it); no Auth0 500 body was found to copy.
  return make(500, 'Internal Server Error', 'internal_server_error');
}

function make(status: number, message: string, errorCode: string): RenderedError {
  return {
    status,
    headers: {},
    body: { statusCode: status, error: STATUS_CODES[status] ?? 'Error', message, errorCode },
  };
}

/** Auth0-style wording: `'Additional properties not allowed: foo'`, `'…' on property name`. */
export function describeValidation(errors: readonly ErrorObject[]): string {
  const first = errors[0];
  if (!first) return 'invalid input';
  const property = first.instancePath.replace(/^\//, '').replaceAll('/', '.');
  if (first.keyword === 'additionalProperties') {
    const extra = String((first.params as { additionalProperty?: unknown }).additionalProperty);
    return `'Additional properties not allowed: ${extra}'${property ? ` on property ${property}` : ''}.`;
  }
  if (first.keyword === 'required') {
    const missing = String((first.params as { missingProperty?: unknown }).missingProperty);
    return `'Missing required property: ${missing}'${property ? ` on property ${property}` : ''}.`;
  }
  if (first.propertyName !== undefined) {
    return `'property name ${JSON.stringify(first.propertyName)} ${first.message ?? 'is invalid'}'${property ? ` on property ${property}` : ''}.`;
  }
  if (first.keyword === 'uniqueItems') {
    // tv4's wording, which Auth0's payload validation uses ('Additional properties not allowed' is tv4's too).
    const { i, j } = first.params as { i: number; j: number };
    const pair = `${String(Math.min(i, j))} and ${String(Math.max(i, j))}`;
    return `'Array items are not unique (indices ${pair})'${property ? ` on property ${property}` : ''}.`;
  }
  if (first.keyword === 'format' && (first.params as { format?: unknown }).format === 'date-time') {
    const expected = 'must be a date-time such as 2030-06-30T23:59:59Z (leap seconds are not supported)';
    return `'${expected}'${property ? ` on property ${property}` : ''}.`;
  }
  return `'${first.message ?? 'invalid'}'${property ? ` on property ${property}` : ''}.`;
}
