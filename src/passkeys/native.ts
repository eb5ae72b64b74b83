import { randomBytes } from 'node:crypto';
import { generateAuthenticationOptions } from '@simplewebauthn/server';
import type { Client } from '../domain/client.js';
import type { Connection } from '../domain/connection.js';
import type { Passkey } from '../domain/passkey.js';
import type { User } from '../domain/user.js';
import {
  AccessDenied,
  InvalidGrant,
  InvalidRequest,
  OAuthError,
  UnauthorizedClient,
} from '../errors/oauth.js';
import { relyingParty } from '../myaccount/service.js';
import { webOriginPatterns } from '../oauth/cors.js';
import {
  RegistrationRefused,
  passkeyCreationOptions,
  verifyPasskeyRegistration,
} from '../webauthn/registration.js';
import { AssertionRefused } from '../webauthn/authentication.js';
import { assertionOwner, verifyAndRecordUse } from './assertion.js';
import { signupDisabled } from '../dbconnections/signup.js';
import type { Deps } from '../server/deps.js';

/** The grant that completes both native ceremonies (spec 1.5). */
export const WEBAUTHN_GRANT = 'urn:okta:params:oauth:grant-type:webauthn';
/** Spec 1.5: an auth_session lives five minutes; the authenticator is given one minute. */
const SESSION_SECONDS = 300;
const CEREMONY_TIMEOUT_MS = 60_000;
const SESSION_KEY = 'passkey:auth_session:';

/** Auth0's user_profile of /passkey/register, with its lengths (spec 1.5). */
const PROFILE_LIMITS: Readonly<Record<string, number>> = {
  email: 512,
  phone_number: 30,
  username: 128,
  name: 300,
  given_name: 150,
  family_name: 150,
  nickname: 300,
  picture: 2048,
};

interface NativeSession {
  readonly kind: 'register' | 'challenge';
  readonly clientId: string;
  readonly connection: string;
  readonly challenge: string;
  /** Register only: the `user.id` of the creation options (base64url) and the profile the user gets. */
  readonly userHandle?: string;
  readonly profile?: Readonly<Record<string, string>>;
  readonly metadata?: Readonly<Record<string, string>>;
  /** Epoch ms, on the tenant's clock. */
  readonly expiresAt: number;
}

/** Passkeys are on for a database connection (Auth0's `authentication_methods.passkey.enabled`). */
export function passkeysEnabled(connection: Connection): boolean {
  const methods = connection.options['authentication_methods'];
  if (!isRecord(methods)) return false;
  const passkey = methods['passkey'];
  return isRecord(passkey) && passkey['enabled'] === true;
}

/** The checks both endpoints make on the client (spec 1.5: first party, with the webauthn grant type). */
export function assertPasskeyClient(client: Client): void {
  if (!client.isFirstParty) {
    throw new UnauthorizedClient('Passkey authentication is only available to first-party clients.');
  }
  if (!client.grantTypes.includes(WEBAUTHN_GRANT)) {
    throw new UnauthorizedClient(`Grant type '${WEBAUTHN_GRANT}' not allowed for the client.`);
  }
}

/** The database connection `realm` names (the default directory when omitted), with passkeys on. */
export async function passkeyConnection(
  deps: Deps,
  client: Client,
  realm: string | undefined,
): Promise<Connection> {
  let name = realm;
  if (name === undefined || name === '') {
    const fallback = (await deps.lookups.tenantSettings())['default_directory'];
    name = typeof fallback === 'string' && fallback !== '' ? fallback : undefined;
  }
  if (name === undefined) {
    throw new InvalidRequest('Missing required parameter: realm (the tenant has no default directory)');
  }
  const connection = await deps.lookups.connection(name);
  if (!connection || connection.strategy !== 'auth0') throw new InvalidRequest(`Unknown realm: ${name}`);
  if (!connection.enabledClients.includes(client.clientId)) {
    throw new AccessDenied(`The connection ${connection.name} is not enabled for this client.`);
  }
  if (!passkeysEnabled(connection)) {
    throw new AccessDenied(`Passkeys are not enabled for the connection ${connection.name}.`);
  }
  return connection;
}

/**
 * The profile of /passkey/register, checked: only Auth0's fields, strings of their lengths, an email.
 * @throws InvalidRequest naming the offending property.
 */
export function parseProfile(value: unknown): Record<string, string> {
  if (!isRecord(value)) throw new InvalidRequest('Missing required parameter: user_profile');
  const profile: Record<string, string> = {};
  for (const [key, field] of Object.entries(value)) {
    const max = PROFILE_LIMITS[key];
    if (max === undefined) throw new InvalidRequest(`Invalid parameter: user_profile.${key} is not allowed`);
    if (typeof field !== 'string' || field.length === 0 || field.length > max) {
      throw new InvalidRequest(
        `Invalid parameter: user_profile.${key} must be a string of 1 to ${String(max)} characters`,
      );
    }
    profile[key] = field;
  }
  if (profile['phone_number'] !== undefined && !/^\+[1-9]\d{1,14}$/.test(profile['phone_number'])) {
    throw new InvalidRequest('Invalid parameter: user_profile.phone_number must be in E.164 format');
  }
  // Database connections identify users by email (the only identifier Latchkey's connections require).
  if (profile['email'] === undefined)
    throw new InvalidRequest('Missing required parameter: user_profile.email');
  return profile;
}

/**
 * The user_metadata of /passkey/register: at most 10 string fields (spec 1.5).
 * @throws InvalidRequest otherwise.
 */
export function parseMetadata(value: unknown): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  const ok =
    isRecord(value) &&
    Object.keys(value).length <= 10 &&
    Object.entries(value).every(([k, v]) => k.length <= 255 && typeof v === 'string' && v.length <= 500);
  if (!ok)
    throw new InvalidRequest('Invalid parameter: user_metadata must be an object of at most 10 strings');
  return value as Record<string, string>;
}

/** The native passkey ceremonies (spec 1.5): starting them, and finishing them for the webauthn grant. */
export function createNativePasskeys(deps: Deps) {
  const rp = relyingParty(deps.config.issuer);

  async function putSession(session: NativeSession): Promise<string> {
    const id = randomBytes(32).toString('base64url');
    await deps.oneTime.putOnce(`${SESSION_KEY}${id}`, JSON.stringify(session), SESSION_SECONDS);
    return id;
  }

  return {
    /** POST /passkey/register: creation options for a new user of the connection. */
    async startRegistration(
      client: Client,
      connection: Connection,
      profile: Record<string, string>,
      metadata: Record<string, string> | undefined,
    ) {
      if (signupDisabled(connection)) throw new AccessDenied('Public signup is disabled');
      const email = profile['email']?.toLowerCase() ?? '';
      const taken = [
        await deps.store.users.findByLogin(connection.name, email),
        profile['username'] === undefined
          ? undefined
          : await deps.store.users.findByLogin(connection.name, profile['username']),
      ];
      if (taken.some((user) => user !== undefined)) throw new InvalidRequest('The user already exists.');
      const handle = randomBytes(32);
      const label = profile['email'] ?? '';
      const options = await passkeyCreationOptions({
        rpId: rp.id,
        rpName: rp.id,
        userHandle: handle,
        userName: label,
        userDisplayName: profile['name'] ?? label,
        timeoutMs: CEREMONY_TIMEOUT_MS,
        userVerification: 'preferred',
      });
      const auth_session = await putSession({
        kind: 'register',
        clientId: client.clientId,
        connection: connection.name,
        challenge: options.challenge,
        userHandle: handle.toString('base64url'),
        profile,
        ...(metadata === undefined ? {} : { metadata }),
        expiresAt: deps.clock.now() + SESSION_SECONDS * 1000,
      });
      // Spec 1.5's shape: Auth0 answers only these members.
      return {
        auth_session,
        authn_params_public_key: {
          challenge: options.challenge,
          timeout: CEREMONY_TIMEOUT_MS,
          rp: { id: rp.id, name: rp.id },
          user: options.user,
          pubKeyCredParams: options.pubKeyCredParams,
          authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
        },
      };
    },

    /** POST /passkey/challenge: request options for a discoverable credential (no allowCredentials). */
    async startChallenge(client: Client, connection: Connection) {
      const options = await generateAuthenticationOptions({
        rpID: rp.id,
        timeout: CEREMONY_TIMEOUT_MS,
        userVerification: 'preferred',
      });
      const auth_session = await putSession({
        kind: 'challenge',
        clientId: client.clientId,
        connection: connection.name,
        challenge: options.challenge,
        expiresAt: deps.clock.now() + SESSION_SECONDS * 1000,
      });
      return {
        auth_session,
        authn_params_public_key: {
          challenge: options.challenge,
          timeout: CEREMONY_TIMEOUT_MS,
          rpId: rp.id,
          userVerification: 'preferred',
        },
      };
    },

    /**
     * The webauthn grant's half: spends the auth_session, verifies the authenticator's answer and returns the
     * user it signs in (a new one for a registration).
     * @throws InvalidGrant for anything about the session or the response.
     */
    async finish(input: FinishInput): Promise<PasskeyOutcome> {
      const stored = await deps.oneTime.takeOnce(`${SESSION_KEY}${input.authSession}`);
      if (stored === undefined) throw invalidSession();
      const session = JSON.parse(stored) as NativeSession;
      if (session.clientId !== input.client.clientId || deps.clock.now() > session.expiresAt) {
        throw invalidSession();
      }
      if (input.realm !== undefined && input.realm !== session.connection) {
        throw new InvalidGrant('The realm is not the one the auth_session was started for.');
      }
      const connection = await deps.lookups.connection(session.connection);
      // The connection may have changed since the ceremony started.
      if (!connection || !connection.enabledClients.includes(input.client.clientId)) {
        throw new InvalidGrant('The connection is not enabled for this client.');
      }
      if (!passkeysEnabled(connection))
        throw new InvalidGrant('Passkeys are not enabled for the connection.');
      return session.kind === 'register'
        ? { ...(await finishRegistration(input, session)), connection, signup: true }
        : { user: await finishChallenge(input, session, connection), connection, signup: false };
    },
  };

  /**
   * Where the ceremony may run: the issuer, and the exact Allowed Web Origins of the client (a browser app using
   * auth0-spa-js's PasskeyApiClient), as for My Account enrolment. The rp id stays the issuer's host, so only
   * pages on that host's site can ever use these passkeys.
   */
  function originsOf(client: Client): string[] {
    const web = webOriginPatterns(client.settings).flatMap((p) => (p.kind === 'exact' ? [p.origin] : []));
    return [rp.origin, ...web];
  }

  async function finishRegistration(input: FinishInput, session: NativeSession) {
    let credential;
    try {
      credential = await verifyPasskeyRegistration(input.response, {
        challenge: session.challenge,
        origins: originsOf(input.client),
        rpId: rp.id,
        requireUserVerification: false,
      });
    } catch (error) {
      if (!(error instanceof RegistrationRefused)) throw error;
      throw notVerified('registration', error);
    }
    if (await deps.store.passkeys.findByCredentialId(credential.credentialId)) {
      throw new InvalidGrant('The passkey is already enrolled.');
    }
    const passkey: Omit<Passkey, 'userId'> = {
      ...credential,
      userHandle: session.userHandle ?? '',
      name: undefined,
      userAgent: input.userAgent?.slice(0, 512),
      createdAt: new Date(deps.clock.now()).toISOString(),
      lastUsedAt: undefined,
    };
    const params = { ...session.profile, ...(session.metadata ? { user_metadata: session.metadata } : {}) };
    return { passkey, profile: params };
  }

  async function finishChallenge(input: FinishInput, session: NativeSession, connection: Connection) {
    const owner = await assertionOwner(deps, input.response, connection.name);
    if (!owner) throw new InvalidGrant('The passkey is not known.');
    const { passkey, user } = owner;
    input.identified?.(user);
    try {
      await verifyAndRecordUse(deps, input.response, passkey, {
        challenge: session.challenge,
        origins: originsOf(input.client),
        rpId: rp.id,
        // The options asked for user verification as 'preferred'.
        requireUserVerification: false,
      });
    } catch (error) {
      if (!(error instanceof AssertionRefused)) throw error;
      throw error.reason === 'not_verified'
        ? notVerified('assertion', error)
        : new InvalidGrant(error.message);
    }
    return user;
  }
}

export interface FinishInput {
  readonly client: Client;
  readonly realm: string | undefined;
  readonly authSession: string;
  readonly response: unknown;
  readonly userAgent: string | undefined;
  readonly identified?: (user: User) => void;
}

/** A finished ceremony: the user who signs in, or the pending user and passkey a registration creates. */
export type PasskeyOutcome =
  | { readonly signup: false; readonly user: User; readonly connection: Connection }
  | {
      readonly signup: true;
      readonly passkey: Omit<Passkey, 'userId'>;
      /** The sign-up's parameters, as /dbconnections/signup takes them (profile fields, user_metadata). */
      readonly profile: Readonly<Record<string, unknown>>;
      readonly connection: Connection;
    };

export type NativePasskeys = ReturnType<typeof createNativePasskeys>;

const invalidSession = () => new InvalidGrant('The auth_session is invalid, expired or already used.');

function notVerified(ceremony: string, error: unknown): OAuthError {
  const why = error instanceof Error ? `: ${error.message}` : '';
  return new InvalidGrant(`The passkey ${ceremony} could not be verified${why}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
