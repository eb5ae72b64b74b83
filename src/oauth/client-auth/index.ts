import { InvalidClient, InvalidRequest } from '../../errors/oauth.js';
import { safeEqual } from '../../lib/secret-box.js';
import type { Client } from '../../domain/client.js';
import { optionalString, type TokenParams } from '../params.js';
import { CLIENT_ASSERTION_TYPE, assertionClientId, verifyClientAssertion } from './private-key-jwt.js';
import type { AuthenticatedClient, ClientAuthDeps, ClientAuthInput } from './types.js';

export type { AuthenticatedClient, ClientAuthDeps, ClientAuthInput } from './types.js';

const MAX_CLIENT_ID_LENGTH = 256;
const BASIC_SCHEME = /^Basic(\s|$)/i;
const BASIC_CHALLENGE = 'Basic realm="oauth", error="invalid_client"';
const FAILED = 'Client authentication failed';
const failed = (detail: string) => new InvalidClient(FAILED, detail);

/** Body parameters client authentication reads. */
export const CLIENT_AUTH_PARAMS = ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type'];

/**
 * Authenticates the client by exactly one of Basic, body secret, client assertion or none (spec 1.1).
 * @throws InvalidRequest when the request itself is malformed (several methods, no client_id); InvalidClient
 * when authentication fails, always with the same message so the answer tells neither whether the client
 * exists, nor how it authenticates, nor which check failed (the detail is for logs), and with a Basic
 * challenge when the caller tried Basic (RFC 6749 §5.2), and only then.
 */
export async function authenticateClient(
  input: ClientAuthInput,
  deps: ClientAuthDeps,
): Promise<AuthenticatedClient> {
  const triedBasic = input.authorization !== undefined && BASIC_SCHEME.test(input.authorization);
  try {
    return await authenticate(input, deps);
  } catch (error) {
    if (triedBasic && error instanceof InvalidClient) {
      throw new InvalidClient(FAILED, error.detail, BASIC_CHALLENGE);
    }
    throw error;
  }
}

async function authenticate(input: ClientAuthInput, deps: ClientAuthDeps): Promise<AuthenticatedClient> {
  const basic = parseBasic(input.authorization);
  const bodyId = optionalString(input.params, 'client_id');
  const bodySecret = optionalString(input.params, 'client_secret');
  const assertion = optionalString(input.params, 'client_assertion');
  const assertionType = optionalString(input.params, 'client_assertion_type');
  const presented = [basic !== undefined, bodySecret !== undefined, assertion !== undefined].filter(
    Boolean,
  ).length;
  if (presented > 1) throw new InvalidRequest('Only one client authentication method may be used');

  if (assertion !== undefined) {
    if (assertionType !== CLIENT_ASSERTION_TYPE) {
      throw new InvalidRequest(`client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`);
    }
    const clientId = assertionClientId(assertion);
    if (bodyId !== undefined && bodyId !== clientId)
      throw failed(`client_id ${bodyId} does not match the client_assertion's sub`);
    const client = await findOrFail(clientId, deps);
    await verifyClientAssertion(client, assertion, deps);
    return { client, method: 'private_key_jwt' };
  }
  if (basic !== undefined) {
    if (bodyId !== undefined && bodyId !== basic.clientId)
      throw failed(`client_id ${bodyId} does not match the Basic credentials`);
    const client = await findOrFail(basic.clientId, deps);
    assertSecret(client, basic.secret, 'client_secret_basic');
    return { client, method: 'client_secret_basic' };
  }
  if (bodyId === undefined || bodyId === '')
    throw new InvalidRequest('Missing required parameter: client_id');
  const client = await findOrFail(bodyId, deps);
  if (bodySecret !== undefined) {
    assertSecret(client, bodySecret, 'client_secret_post');
    return { client, method: 'client_secret_post' };
  }
  if (client.tokenEndpointAuthMethod !== 'none') {
    throw failed(`${client.clientId}: no credentials presented, the client is not public`);
  }
  return { client, method: 'none' };
}

/**
 * The client a token or revocation request names (Basic user, client assertion `sub` or `client_id`), without
 * authenticating it: what CORS answers are decided for, errors included. Undefined when none is readable.
 */
export function namedClientId(params: TokenParams, authorization: string | undefined): string | undefined {
  try {
    const basic = parseBasic(authorization);
    const assertion = optionalString(params, 'client_assertion');
    const id =
      basic?.clientId ??
      (assertion !== undefined ? assertionClientId(assertion) : optionalString(params, 'client_id'));
    const readable =
      id !== undefined && id.length <= MAX_CLIENT_ID_LENGTH && !id.includes('\u0000') && id.isWellFormed();
    return readable ? id : undefined;
  } catch {
    return undefined;
  }
}

async function findOrFail(clientId: string, deps: ClientAuthDeps): Promise<Client> {
  // Ids arrive from headers and JWT claims too; text a database cannot hold never reaches a query.
  if (clientId.length > MAX_CLIENT_ID_LENGTH || clientId.includes('\u0000') || !clientId.isWellFormed()) {
    throw failed('malformed client id');
  }
  const client = await deps.findClient(clientId);
  if (!client) throw failed(`unknown client ${clientId}`);
  return client;
}

function assertSecret(
  client: Client,
  secret: string,
  method: 'client_secret_basic' | 'client_secret_post',
): void {
  // The bootstrap client (isSystem) accepts both secret methods; others only their configured one.
  const allowed = client.isSystem
    ? client.tokenEndpointAuthMethod !== null
    : client.tokenEndpointAuthMethod === method;
  const matches = safeEqual(secret, client.clientSecret);
  if (!allowed || !matches) {
    throw failed(`${client.clientId}: ${allowed ? 'wrong secret' : `${method} not allowed`}`);
  }
}

/** RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64. */
function parseBasic(header: string | undefined): { clientId: string; secret: string } | undefined {
  if (header === undefined || !BASIC_SCHEME.test(header)) return undefined;
  const match = /^Basic +([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match?.[1]) throw failed('malformed Basic credentials');
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw failed('malformed Basic credentials');
  try {
    return {
      clientId: decodeURIComponent(decoded.slice(0, colon).replaceAll('+', ' ')),
      secret: decodeURIComponent(decoded.slice(colon + 1).replaceAll('+', ' ')),
    };
  } catch {
    throw failed('malformed Basic credentials');
  }
}
