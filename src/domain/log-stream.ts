import { isIP } from 'node:net';

/** Auth0's log stream filter categories (node-auth0 `LogStreamFilterGroupNameEnum`). */
export const LOG_STREAM_CATEGORIES = [
  'auth.ancillary.fail',
  'auth.ancillary.success',
  'auth.login.fail',
  'auth.login.notification',
  'auth.login.success',
  'auth.logout.fail',
  'auth.logout.success',
  'auth.signup.fail',
  'auth.signup.success',
  'auth.silent_auth.fail',
  'auth.silent_auth.success',
  'auth.token_exchange.fail',
  'auth.token_exchange.success',
  'management.fail',
  'management.success',
  'scim.event',
  'system.notification',
  'user.fail',
  'user.notification',
  'user.success',
  'actions',
  'other',
] as const;
export type LogStreamCategory = (typeof LOG_STREAM_CATEGORIES)[number];

/** Auth0's stream types besides `http`: accepted by Auth0, refused here with a clear message. */
export const UNSUPPORTED_STREAM_TYPES = [
  'eventbridge',
  'eventgrid',
  'datadog',
  'splunk',
  'sumo',
  'segment',
  'mixpanel',
] as const;

export type LogStreamStatus = 'active' | 'paused' | 'suspended';
export type HttpContentFormat = 'JSONARRAY' | 'JSONLINES' | 'JSONOBJECT';

export interface HttpCustomHeader {
  readonly header: string;
  readonly value: string;
}

/** An HTTP stream's sink, with Auth0's field names (they are camelCase on the wire too). */
export interface HttpSink {
  readonly httpEndpoint: string;
  readonly httpContentFormat: HttpContentFormat;
  readonly httpContentType?: string | undefined;
  /** The `Authorization` header value sent with each delivery; sealed at rest. */
  readonly httpAuthorization?: string | undefined;
  readonly httpCustomHeaders?: readonly HttpCustomHeader[] | undefined;
}

export interface LogStreamFilter {
  readonly type: 'category';
  readonly name: LogStreamCategory;
}

export interface LogStream {
  readonly id: string;
  readonly name: string;
  readonly type: 'http';
  readonly status: LogStreamStatus;
  readonly sink: HttpSink;
  /** Absent or empty: every event. */
  readonly filters?: readonly LogStreamFilter[] | undefined;
  readonly isPriority: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Why `endpoint` cannot receive log events, or undefined when it can: an absolute https URL, or plain http to a
 * loopback host (development and tests). fetch refuses URLs with credentials, so they are refused here too.
 */
export function endpointProblem(endpoint: string): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return 'httpEndpoint must be an absolute URL';
  }
  if (url.username !== '' || url.password !== '') return 'httpEndpoint must not contain credentials';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return undefined;
  if (url.protocol === 'http:' && isIP(url.hostname) === 4 && url.hostname.startsWith('127.'))
    return undefined;
  return 'httpEndpoint must be an https URL (plain http is allowed only to localhost, 127.0.0.1 and ::1)';
}

/** True when `stream` takes events of `category`: no filters means every event. */
export function streamAccepts(stream: LogStream, category: string): boolean {
  const filters = stream.filters;
  return filters === undefined || filters.length === 0 || filters.some((f) => f.name === category);
}
