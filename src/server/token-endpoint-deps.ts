import { randomUUID } from 'node:crypto';
import { createCodeStore } from '../oauth/authorize/codes.js';
import { createMfaApi } from '../mfa-api/service.js';
import type { FastifyBaseLogger } from 'fastify';
import { DbConnectionError } from '../dbconnections/errors.js';
import { signUp } from '../dbconnections/signup.js';
import { InvalidGrant } from '../errors/oauth.js';
import { createUserService } from '../management/users/service.js';
import { createNativePasskeys, type NativePasskeys } from '../passkeys/native.js';
import type { PasskeySignIn, PasskeySignInInput } from '../oauth/grants/webauthn.js';
import type { IssuanceWrites } from '../oauth/grants/types.js';
import type { TokenEndpointDeps } from '../oauth/token-endpoint.js';
import type { Deps } from './deps.js';
import { createLoginThrottle } from './login-throttle.js';

/** Nothing was written: another request had already rotated the presented refresh token. */
class RotationRaced extends Error {}

/** Wires the token endpoint's narrow dependencies to the stores, caches and keys of this node. */
export function createTokenEndpointDeps(deps: Deps, log: FastifyBaseLogger): TokenEndpointDeps {
  const { store } = deps;
  const native = createNativePasskeys(deps);
  const users = createUserService(deps);
  const nowSeconds = () => Math.floor(deps.clock.now() / 1000);
  return {
    issuer: deps.config.issuer,
    nowSeconds,
    newJti: () => randomUUID(),
    signer: deps.signer,
    findClient: (id) => deps.lookups.client(id),
    listCredentials: (id) => store.clients.listCredentials(id),
    // The key spelling is shared with migration 0003, which carried the old jti table over.
    markJtiUsed: (clientId, jti, exp) =>
      deps.oneTime.putOnce(`jti:${clientId}:${jti}`, '1', exp - nowSeconds()),
    findApi: (identifier) => deps.lookups.resourceServer(identifier),
    findGrants: (clientId, audience) => deps.lookups.grants(clientId, audience),
    newId: (prefix) => deps.ids.prefixed(prefix),
    tenantSettings: () => deps.lookups.tenantSettings(),
    findConnection: (name) => deps.lookups.connection(name),
    findUserByLogin: (connection, login) => store.users.findByLogin(connection, login),
    findUser: (userId) => store.users.findById(userId),
    // One transaction: a login's writes commit together (each commit costs more than the statements in it).
    recordLogin: (user, ip, rehash, clearFailures) =>
      store.transaction(async (repos) => {
        if (clearFailures !== undefined) await repos.loginFailures.clear(clearFailures, ip);
        return repos.users.recordLogin(user.userId, {
          at: new Date(deps.clock.now()).toISOString(),
          ip,
          ...(rehash?.identity.passwordHash !== undefined
            ? {
                rehash: {
                  identity: rehash.identity,
                  verified: rehash.identity.passwordHash,
                  replacement: rehash.replacement,
                },
              }
            : { identities: user.identities }),
        });
      }),
    loginFailures: store.loginFailures,
    throttleLogin: createLoginThrottle(deps, log),
    passwordCheckFloorMs: deps.passwordCheckFloorMs,
    effectivePermissions: (userId, audience) => store.roles.effectivePermissions(userId, audience),
    findConsent: async (userId, clientId, audience) =>
      (await store.consents.list({ userId, clientId, audience }, { offset: 0, limit: 1 }))[0],
    findRefreshToken: (hash) => store.refreshTokens.findByHash(hash),
    revokeRefreshFamily: (familyId, at, reason) => store.refreshTokens.revokeFamily(familyId, at, reason),
    saveIssuance: (writes) => saveIssuance(deps, writes),
    authorizationCodes: createCodeStore(deps.oneTime, nowSeconds),
    passkeySignIn: (input) => passkeySignIn(deps, native, users, log, input),
    mfa: createMfaApi(deps, log).grantDeps,
    dpop: { nonces: deps.dpopNonces, putOnce: (key, value, ttl) => deps.oneTime.putOnce(key, value, ttl) },
  };
}

/** The webauthn grant: the ceremony, then (for a registration) the same sign-up as /dbconnections/signup. */
async function passkeySignIn(
  deps: Deps,
  native: NativePasskeys,
  users: ReturnType<typeof createUserService>,
  log: FastifyBaseLogger,
  input: PasskeySignInInput,
): Promise<PasskeySignIn> {
  const client = await deps.lookups.client(input.clientId);
  if (!client) throw new InvalidGrant('The client is unknown.');
  const outcome = await native.finish({
    client,
    realm: input.realm,
    authSession: input.authSession,
    response: input.response,
    userAgent: input.userAgent,
    identified: input.identified,
  });
  if (!outcome.signup) return { user: outcome.user, connection: outcome.connection, signup: false };
  try {
    const user = await signUp(deps, users, {
      client,
      connection: outcome.connection,
      params: outcome.profile,
      facts: { ip: input.ip, userAgent: input.userAgent, hostname: undefined },
      log,
      passkey: outcome.passkey,
    });
    return { user, connection: outcome.connection, signup: true };
  } catch (error) {
    if (error instanceof DbConnectionError) {
      throw new InvalidGrant(error.code === 'user_exists' ? 'The user already exists.' : error.message);
    }
    throw error;
  }
}

/**
 * One transaction for everything an issuance writes: a failure leaves the presented refresh token as it was,
 * so the client's retry is not mistaken for reuse.
 */
async function saveIssuance(deps: Deps, writes: IssuanceWrites): Promise<'saved' | 'raced'> {
  if (!writes.rotated && !writes.touched && !writes.refreshToken && !writes.consent) return 'saved';
  try {
    await deps.store.transaction(async (repos) => {
      if (writes.rotated && !(await repos.refreshTokens.markRotated(writes.rotated.id, writes.rotated.at))) {
        throw new RotationRaced();
      }
      if (writes.touched) {
        const { id, at, idleExpiresAt, from } = writes.touched;
        await repos.refreshTokens.touch(id, at, idleExpiresAt, from);
      }
      if (writes.refreshToken) await repos.refreshTokens.insert(writes.refreshToken);
      if (writes.consent) await repos.consents.upsert(writes.consent);
    });
    return 'saved';
  } catch (error) {
    if (error instanceof RotationRaced) return 'raced';
    throw error;
  }
}
