import { type PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import type { Passkey } from '../domain/passkey.js';
import { isOwnIdentity, type User } from '../domain/user.js';
import { BadRequest, Conflict, NotFound } from '../errors/api.js';
import type { Deps } from '../server/deps.js';
import { isUniqueViolation } from '../storage/json.js';
import {
  RegistrationRefused,
  passkeyCreationOptions,
  verifyPasskeyRegistration,
} from '../webauthn/registration.js';
import { AUTH_SESSION_SECONDS, openAuthSession, takeAuthSession, type AuthSession } from './auth-session.js';
import { passkeyMethodView, passwordMethodViews } from './views.js';

/** The id a passkey enrolment is started and verified under (spec 3.3). */
export const NEW_PASSKEY_ID = 'passkey|new';
/** Auth0 answers at most 20 methods (spec 3.1). */
export const MAX_METHODS = 20;

interface PasskeySession extends AuthSession {
  readonly challenge: string;
  readonly userHandle: string;
}

export interface EnrolmentStart {
  readonly type: string;
  readonly connection?: string | undefined;
  readonly identity_user_id?: string | undefined;
  readonly use_exclude_credentials?: boolean | undefined;
  readonly email?: string | undefined;
  readonly phone_number?: string | undefined;
  readonly preferred_authentication_method?: 'sms' | 'voice' | undefined;
}

/** The relying party of the tenant's passkeys: the issuer's host and origin. */
export function relyingParty(issuer: string): { readonly id: string; readonly origin: string } {
  const url = new URL(issuer);
  return { id: url.hostname, origin: url.origin };
}

/** The WebAuthn `user.id` of a user: stable, so one authenticator keeps one credential per user. */
/** The name the tenant shows to authenticators (a passkey's relying party, a TOTP issuer): its friendly name, else `fallback`. */
export function tenantDisplayName(settings: Readonly<Record<string, unknown>>, fallback: string): string {
  const friendlyName = settings['friendly_name'];
  return typeof friendlyName === 'string' && friendlyName !== '' ? friendlyName : fallback;
}

/** How an authenticator lists the user's passkey: the first of email, username, phone number and user id. */
export function passkeyUserLabel(user: User): string {
  return user.email ?? user.username ?? user.phoneNumber ?? user.userId;
}

export function userHandleOf(userId: string): string {
  return Buffer.from(userId, 'utf8').toString('base64url');
}

export const methodNotFound = () => new NotFound('not_found', 'The authentication method does not exist.');

/** The My Account API's authentication methods of the token's user (spec 3.1–3.5). */
export function createMyAccountService(deps: Deps) {
  const rp = relyingParty(deps.config.issuer);

  function methodsOf(
    user: User,
    passkeys: readonly Passkey[],
    type: string | undefined,
  ): Record<string, unknown>[] {
    const all: Record<string, unknown>[] = [];
    if (type === undefined || type === 'password') all.push(...passwordMethodViews(user));
    if (type === undefined || type === 'passkey')
      all.push(...passkeys.map((p) => passkeyMethodView(p, rp.id)));
    return all.slice(0, MAX_METHODS);
  }

  // The list's JSON, remembered per cached user and passkey list: a write replaces the cached objects (the
  // entries are forgotten and read again), so an answer can never outlive what it was made from.
  const listed = new WeakMap<User, WeakMap<readonly Passkey[], Map<string, string>>>();
  async function methodListJson(user: User, type: string | undefined): Promise<string> {
    const passkeys = await deps.userReads.passkeys(user.userId);
    let byPasskeys = listed.get(user);
    if (!byPasskeys) listed.set(user, (byPasskeys = new WeakMap<readonly Passkey[], Map<string, string>>()));
    let byType = byPasskeys.get(passkeys);
    if (!byType) byPasskeys.set(passkeys, (byType = new Map<string, string>()));
    const key = type ?? '';
    let json = byType.get(key);
    if (json === undefined) {
      json = JSON.stringify({ authentication_methods: methodsOf(user, passkeys, type) });
      byType.set(key, json);
    }
    return json;
  }

  async function passkeyOf(user: User, id: string): Promise<Passkey> {
    const passkey = id.startsWith('passkey|')
      ? await deps.store.passkeys.findForUser(user.userId, id)
      : undefined;
    if (!passkey) throw methodNotFound();
    return passkey;
  }

  /** Password methods are listed and read; they change through password reset, not here. */
  function isPasswordMethod(user: User, id: string): boolean {
    return id.startsWith('password|') && passwordMethodViews(user).some((m) => m['id'] === id);
  }

  return {
    /** GET /authentication-methods' body, serialized. */
    methodListJson,
    /** The passkey and password methods, as the list shows them. */
    async methods(user: User, type: string | undefined): Promise<Record<string, unknown>[]> {
      return methodsOf(user, await deps.userReads.passkeys(user.userId), type);
    },

    async method(user: User, id: string): Promise<Record<string, unknown>> {
      if (isPasswordMethod(user, id)) {
        const found = passwordMethodViews(user).find((m) => m['id'] === id);
        if (found) return found;
      }
      return passkeyMethodView(await passkeyOf(user, id), rp.id);
    },

    async rename(user: User, id: string, patch: { name?: string; preferred_authentication_method?: string }) {
      if (isPasswordMethod(user, id)) {
        throw new BadRequest('invalid_body', 'A password method has no name to change.');
      }
      const passkey = await passkeyOf(user, id);
      if (patch.preferred_authentication_method !== undefined) {
        throw new BadRequest(
          'invalid_body',
          'preferred_authentication_method applies to phone methods only.',
        );
      }
      if (patch.name === undefined) return passkeyMethodView(passkey, rp.id);
      await deps.store.passkeys.rename(user.userId, id, patch.name);
      deps.invalidation.userChanged(user.userId, 'passkeys');
      return passkeyMethodView({ ...passkey, name: patch.name }, rp.id);
    },

    async remove(user: User, id: string): Promise<void> {
      if (isPasswordMethod(user, id)) {
        throw new BadRequest('invalid_body', 'A password method cannot be deleted through this API.');
      }
      const deleted = await deps.store.passkeys.delete(user.userId, (await passkeyOf(user, id)).id);
      deps.invalidation.userChanged(user.userId, 'passkeys');
      if (!deleted) throw methodNotFound();
    },

    /** Starts a passkey enrolment: WebAuthn creation options and the auth_session that verifies it. */
    async startEnrolment(
      user: User,
      body: EnrolmentStart,
    ): Promise<{ auth_session: string; authn_params_public_key: PublicKeyCredentialCreationOptionsJSON }> {
      if (body.type !== 'passkey') {
        throw new BadRequest('invalid_body', `Authentication method type "${body.type}" is not supported.`);
      }
      const own = user.identities.find((identity) => isOwnIdentity(user, identity));
      if (body.connection !== undefined && body.connection !== own?.connection) {
        throw new BadRequest('invalid_body', "The connection is not the user's connection.");
      }
      if (body.identity_user_id !== undefined && body.identity_user_id !== user.userId) {
        throw new BadRequest('invalid_body', "The identity_user_id is not the user's identity.");
      }
      const exclude = body.use_exclude_credentials !== false;
      const passkeys = exclude ? await deps.store.passkeys.listForUser(user.userId) : [];
      const userHandle = userHandleOf(user.userId);
      const label = passkeyUserLabel(user);
      const options = await passkeyCreationOptions({
        rpId: rp.id,
        rpName: tenantDisplayName(await deps.lookups.tenantSettings(), rp.id),
        userHandle: Buffer.from(userHandle, 'base64url'),
        userName: label,
        userDisplayName: label,
        timeoutMs: AUTH_SESSION_SECONDS * 1000,
        userVerification: 'required',
        exclude: passkeys,
      });
      const authSession = await openAuthSession<PasskeySession>(
        deps,
        { userId: user.userId, type: 'passkey', challenge: options.challenge, userHandle },
        deps.clock.now(),
      );
      return { auth_session: authSession, authn_params_public_key: options };
    },

    /**
     * Verifies the authenticator's answer and stores the passkey; the auth_session is spent either way.
     * `appOrigins`: the origins of the token's application, where its pages may run the ceremony besides the
     * issuer's own; the rp id stays the issuer's host, so only origins on that host's site can ever use it.
     */
    async verifyEnrolment(
      user: User,
      id: string,
      body: { auth_session: string; authn_response: unknown },
      userAgent: string | undefined,
      appOrigins: readonly string[] = [],
    ): Promise<Record<string, unknown>> {
      if (id !== NEW_PASSKEY_ID) throw methodNotFound();
      const session = await takeAuthSession<PasskeySession>(
        deps,
        body.auth_session,
        user.userId,
        'passkey',
        deps.clock.now(),
      );
      let credential;
      try {
        credential = await verifyPasskeyRegistration(body.authn_response, {
          challenge: session.challenge,
          origins: [rp.origin, ...appOrigins],
          rpId: rp.id,
          requireUserVerification: true,
        });
      } catch (error) {
        if (!(error instanceof RegistrationRefused)) throw error;
        throw new BadRequest(
          'invalid_body',
          `The passkey registration could not be verified: ${error.message}`,
        );
      }
      const passkey: Passkey = {
        ...credential,
        userId: user.userId,
        userHandle: session.userHandle,
        name: undefined,
        // Bounded like the logs' user agents: a header is not a place to store arbitrary text.
        userAgent: userAgent?.slice(0, 512),
        createdAt: new Date(deps.clock.now()).toISOString(),
        lastUsedAt: undefined,
      };
      // The credential id is unique in the tenant: the insert itself refuses one already enrolled, by anyone.
      try {
        await deps.store.passkeys.insert(passkey);
      } catch (error) {
        if (isUniqueViolation(error)) throw alreadyEnrolled();
        throw error;
      }
      deps.invalidation.userChanged(user.userId, 'passkeys');
      return passkeyMethodView(passkey, rp.id);
    },
  };
}

const alreadyEnrolled = () => new Conflict('conflict', 'The passkey is already enrolled.');

export type MyAccountService = ReturnType<typeof createMyAccountService>;
