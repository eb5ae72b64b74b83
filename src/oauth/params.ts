import { InvalidRequest } from '../errors/oauth.js';

/** Token-endpoint parameters after duplicate rejection; JSON bodies may carry objects (webauthn). */
export type TokenParams = Readonly<Record<string, unknown>>;

/**
 * Normalises a form or JSON body into parameters.
 * @throws InvalidRequest for a non-object body or a repeated parameter (RFC 6749 §3.2).
 */
export function parseTokenParams(body: unknown): TokenParams {
  return rejectDuplicates(parseTokenBody(body));
}

/**
 * Longest value of each identifier parameter. Nothing longer can name anything: Auth0 caps a resource server
 * identifier at 600 characters (Management API), connection names at 128, and no grant type comes near 128.
 * Refusing them up front keeps them out of lookups, logs and error text. (Client ids are bounded by client
 * authentication, which answers invalid_client.)
 */
export const PARAM_MAX_LENGTHS: Readonly<Record<string, number>> = {
  audience: 600,
  resource: 600,
  realm: 128,
  grant_type: 128,
};

/**
 * @throws InvalidRequest naming the parameter that is longer than its cap (never echoing its value).
 */
export function assertParamLengths(params: TokenParams): TokenParams {
  for (const [name, max] of Object.entries(PARAM_MAX_LENGTHS)) {
    const value = params[name];
    if (typeof value === 'string' && value.length > max) {
      throw new InvalidRequest(`Invalid parameter: ${name} must be at most ${String(max)} characters`);
    }
  }
  return params;
}

/** @throws InvalidRequest for a body that is not an object of parameters. */
export function parseTokenBody(body: unknown): TokenParams {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body))
    throw new InvalidRequest('Request body must be an object');
  return body as TokenParams;
}

/**
 * A form field sent twice arrives as an array of strings.
 * @throws InvalidRequest naming the repeated parameter (RFC 6749 §3.2).
 */
export function rejectDuplicates(params: TokenParams): TokenParams {
  for (const name of Object.keys(params)) {
    const value = params[name];
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
      throw new InvalidRequest(`Duplicate parameter: ${name}`);
    }
  }
  return params;
}

/** @throws InvalidRequest when present but not a string. */
export function optionalString(params: TokenParams, name: string): string | undefined {
  const value = params[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new InvalidRequest(`Invalid parameter: ${name} must be a string`);
  return value;
}

/** @throws InvalidRequest "Missing required parameter: name" (Auth0 wording). */
export function requiredString(params: TokenParams, name: string): string {
  const value = optionalString(params, name);
  if (value === undefined || value === '') throw new InvalidRequest(`Missing required parameter: ${name}`);
  return value;
}

/** Space-delimited scope parameter; undefined when absent. */
export function parseScope(raw: string | undefined): string[] | undefined {
  // Clients that build forms from optional fields send `scope=` for "none given": same as omitting it.
  const scopes = raw?.split(' ').filter(Boolean) ?? [];
  return scopes.length === 0 ? undefined : [...new Set(scopes)];
}
