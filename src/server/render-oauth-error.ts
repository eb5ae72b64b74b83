import { AppError } from '../errors/app-error.js';
import { MfaRequired, OAuthError } from '../errors/oauth.js';
import { describeValidation } from './render-api-error.js';
import { isUnavailable } from './unavailable.js';
import type { ErrorObject } from 'ajv';

export interface RenderedOAuthError {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: { error: string; error_description: string; mfa_token?: string };
}

/** Fastify's own request errors that deserve their own status or wording. */
const FASTIFY_ERRORS: Readonly<Record<string, { status: number; text: string }>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, text: 'Request body too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 400,
    text: 'Content-Type must be application/x-www-form-urlencoded or application/json',
  },
  FST_ERR_BAD_URL: { status: 400, text: 'The URL is not valid percent-encoded UTF-8' },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, text: 'URI Too Long' },
};

/** OAuth error body `{error, error_description}` (RFC 6749 §5.2, spec 1.4). */
export function renderOAuthError(err: unknown): RenderedOAuthError {
  const headers: Record<string, string> = { 'cache-control': 'no-store', pragma: 'no-cache' };
  if (err instanceof OAuthError) {
    if (err.challenge !== undefined) headers['www-authenticate'] = err.challenge;
    const body = { error: err.code, error_description: err.message };
    return {
      status: err.status,
      headers,
      body: err instanceof MfaRequired ? { ...body, mfa_token: err.mfaToken } : body,
    };
  }
  if (err instanceof AppError && err.status < 500) {
    return { status: 400, headers, body: { error: 'invalid_request', error_description: err.message } };
  }
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    statusCode?: number;
    code?: string;
    validation?: ErrorObject[];
  };
  if (e.validation) {
    return {
      status: 400,
      headers,
      body: { error: 'invalid_request', error_description: describeValidation(e.validation) },
    };
  }
  const known =
    e.code !== undefined && Object.hasOwn(FASTIFY_ERRORS, e.code) ? FASTIFY_ERRORS[e.code] : undefined;
  if (known) {
    return {
      status: known.status,
      headers,
      body: { error: 'invalid_request', error_description: known.text },
    };
  }
  if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
    return {
      status: 400,
      headers,
      body: { error: 'invalid_request', error_description: 'Malformed request body' },
    };
  }
  if (isUnavailable(err)) {
    return {
      status: 503,
      headers,
      body: { error: 'temporarily_unavailable', error_description: 'Service temporarily unavailable' },
    };
  }
  return {
    status: 500,
    headers,
    body: { error: 'server_error', error_description: 'internal server error' },
  };
}
