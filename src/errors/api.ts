import { AppError } from './app-error.js';

export type ApiErrorCode =
  | 'invalid_body'
  | 'invalid_query_string'
  | 'invalid_uri'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'insufficient_user_authentication'
  | 'operation_not_supported'
  | 'inexistent_resource_server'
  | 'inexistent_client'
  | 'inexistent_grant'
  | 'inexistent_refresh_token'
  | 'inexistent_session'
  | 'inexistent_log_stream'
  | 'inexistent_key'
  | 'inexistent_user'
  | 'inexistent_log'
  | 'inexistent_enrollment'
  | 'inexistent_device_credential'
  | 'resource_server_conflict'
  | 'client_grant_conflict'
  | 'conflict'
  | 'connection_conflict'
  | 'inexistent_connection'
  | 'inexistent_role'
  | 'user_conflict'
  | 'temporarily_unavailable'
  | 'query_timeout'
  | 'payload_too_large'
  | 'not_found'
  | 'too_many_requests'
  | 'unsupported_media_type'
  | 'error_sending_sms'
  | 'error_sending_email';

abstract class ApiError extends AppError {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    /** The `WWW-Authenticate` challenge to send with this error, if any. */
    readonly challenge?: string,
  ) {
    super(message);
  }
}

export class BadRequest extends ApiError {
  readonly status = 400;
}
export class Unauthorized extends ApiError {
  readonly status = 401;
  constructor(message: string, challenge?: string) {
    super('invalid_token', message, challenge);
  }
}
export class Forbidden extends ApiError {
  readonly status = 403;
}
export class NotFound extends ApiError {
  readonly status = 404;
}
export class Conflict extends ApiError {
  readonly status = 409;
}
export class TooManyRequests extends ApiError {
  readonly status = 429;
  constructor(
    message = 'Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.',
    /** Sent as `Retry-After` (spec 3.7) when the refusal knows when it ends. */
    readonly retryAfterSeconds?: number,
  ) {
    super('too_many_requests', message);
  }
}

/** A 503 whose message is meant for the caller (a search that ran too long), unlike an outage's. */
export class ServiceUnavailable extends ApiError {
  readonly status = 503;
}

/** 403 insufficient_scope in Auth0's wording. */
export function insufficientScope(expected: readonly string[]): Forbidden {
  return new Forbidden('insufficient_scope', `Insufficient scope, expected any of: ${expected.join(', ')}`);
}
