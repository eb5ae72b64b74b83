import type { Passkey } from '../../domain/passkey.js';
import { randomBytes } from 'node:crypto';
import type { Connection } from '../../domain/connection.js';
import { isOwnIdentity, ownIdentity, type Identity, type User } from '../../domain/user.js';
import { BadRequest, Conflict, NotFound, ServiceUnavailable } from '../../errors/api.js';
import type { Deps } from '../../server/deps.js';
import { isUniqueViolation } from '../../storage/json.js';
import { QueryTimeout } from '../../storage/search-deadline.js';
import type { Repositories } from '../../storage/repositories/index.js';
import type { UserSortField } from '../../storage/repositories/users.js';
import { BCRYPT_MAX_COST, bcryptCost, hashPassword } from '../../users/passwords.js';
import {
  checkNewPassword,
  passwordOptionsOf,
  type PasswordOwner,
  type PasswordRejection,
} from '../../users/password-policy.js';
import { parseSearchQuery } from '../../users/search-query.js';
import {
  METADATA_MAX_PROPERTIES,
  type CustomPasswordHash,
  type UserCreate,
  type UserUpdate,
} from './schemas.js';

const notFound = () => new NotFound('inexistent_user', 'The user does not exist.');
// Auth0 compat: 409 "User already exists." (Auth0's own errorCode here is auth0_idp_error).
const exists = () => new Conflict('user_conflict', 'User already exists.');
/** Auth0 caps what a search can reach at 1000 users. */
const SEARCH_WINDOW = 1000;
const SORTABLE = new Set<UserSortField>([
  'created_at',
  'updated_at',
  'last_login',
  'logins_count',
  'email',
  'name',
  'user_id',
]);

/** A new password the connection's options refuse; sign-up and the reset page render `rejection` their own way. */
export class PasswordRejected extends BadRequest {
  constructor(readonly rejection: PasswordRejection) {
    super('invalid_body', `${rejection.name}: ${rejection.message}`);
  }
}

/**
 * The connection's password options (strength, dictionary, personal data, history) for a password about to be
 * set; the same check as sign-up.
 * @throws BadRequest in Auth0's words, e.g. "PasswordHistoryError: Password has previously been used".
 */
async function assertNewPassword(
  connection: Connection,
  password: string,
  owner: PasswordOwner,
  latestHashes?: (count: number) => Promise<readonly string[]>,
): Promise<void> {
  const rejected = await checkNewPassword({
    password,
    options: connection.options,
    owner,
    ...(latestHashes ? { latestHashes } : {}),
  });
  if (rejected) throw new PasswordRejected(rejected);
}

export function createUserService(deps: Deps) {
  const { store } = deps;
  const now = () => new Date(deps.clock.now()).toISOString();

  async function databaseConnection(name: string): Promise<Connection> {
    const connection = await store.connections.findByName(name);
    if (!connection) throw new BadRequest('inexistent_connection', 'The connection does not exist.');
    if (connection.strategy !== 'auth0')
      throw new BadRequest('operation_not_supported', 'Only database connections are supported.');
    return connection;
  }

  /** Auth0 uses `connection` in a PATCH to pick the identity to change; a database user has only its own. */
  async function assertOwnConnection(user: User, name: string): Promise<void> {
    if (name === ownIdentity(user).connection) return;
    if (!(await store.connections.findByName(name)))
      throw new BadRequest('inexistent_connection', 'The connection does not exist.');
    throw new BadRequest(
      'invalid_body',
      `Payload validation error: the user has no identity in connection ${name}.`,
    );
  }

  async function get(userId: string): Promise<User> {
    const user = await store.users.findById(userId);
    if (!user) throw notFound();
    return user;
  }

  return {
    get,

    async list(
      query: { q?: string | undefined; sort?: string | undefined; connection?: string | undefined },
      page: { offset: number; limit: number },
    ) {
      if (page.offset + page.limit > SEARCH_WINDOW) {
        throw new BadRequest(
          'invalid_query_string',
          `Query validation error: only the first ${SEARCH_WINDOW} users can be paged through; narrow the search.`,
        );
      }
      const search = query.q === undefined || query.q.trim() === '' ? undefined : parseSearchQuery(query.q);
      let sort: { field: UserSortField; direction: 'asc' | 'desc' } | undefined;
      if (query.sort !== undefined) {
        const [field, dir] = query.sort.split(':') as [UserSortField, string];
        if (!SORTABLE.has(field))
          throw new BadRequest('invalid_query_string', `Query validation error: cannot sort by ${field}.`);
        sort = { field, direction: dir === '1' ? 'asc' : 'desc' };
      }
      const listQuery = {
        search,
        ...(sort ? { sort } : {}),
        ...(query.connection !== undefined ? { connection: query.connection } : {}),
      };
      const [items, total] = await Promise.all([
        store.users.list(listQuery, page),
        store.users.count(listQuery),
      ]).catch((error: unknown) => {
        // Auth0 compat: a search that does not complete within two seconds answers 503.
        if (error instanceof QueryTimeout) {
          throw new ServiceUnavailable(
            'query_timeout',
            'The query exceeded the timeout. Please try refining your search criteria.',
          );
        }
        throw error;
      });
      return { items, total: Math.min(total, SEARCH_WINDOW) };
    },

    byEmail: (email: string) => store.users.findByEmail(email),

    /** `passkey`: native passkey sign-up; the user gets no password and the passkey, in one transaction. */
    async create(body: UserCreate, extra: { passkey?: Omit<Passkey, 'userId'> } = {}): Promise<User> {
      assertMetadataFieldNames(body);
      const connection = await databaseConnection(body.connection);
      if (body.email === undefined)
        throw new BadRequest('invalid_body', "Payload validation error: 'Missing required property: email'.");
      assertUsernameRule(connection, body.username, 'create');
      const passwordHash =
        extra.passkey !== undefined && body.password === undefined
          ? undefined
          : await initialPasswordHash(connection, body);
      // Auth0 stores database-connection emails lowercased.
      const email = body.email.toLowerCase();
      const at = now();
      const identity: Identity = {
        provider: 'auth0',
        userId: body.user_id ?? randomBytes(12).toString('hex'),
        connection: connection.name,
        isSocial: false,
        email,
        username: body.username,
        passwordHash,
        profileData: {},
        createdAt: at,
        updatedAt: at,
      };
      const user: User = {
        tenantId: deps.tenantId,
        userId: `${identity.provider}|${identity.userId}`,
        email,
        emailVerified: body.email_verified ?? false,
        username: body.username,
        phoneNumber: body.phone_number,
        phoneVerified: body.phone_verified ?? false,
        name: body.name ?? email,
        givenName: body.given_name,
        familyName: body.family_name,
        nickname: body.nickname ?? email.split('@')[0],
        picture: body.picture,
        userMetadata: body.user_metadata ?? {},
        appMetadata: body.app_metadata ?? {},
        lastPasswordReset: undefined,
        blocked: body.blocked ?? false,
        loginsCount: 0,
        lastLogin: undefined,
        lastIp: undefined,
        createdAt: at,
        updatedAt: at,
        identities: [identity],
      };
      if (await store.users.findById(user.userId)) throw exists();
      try {
        await store.transaction(async (repos) => {
          await repos.users.insert(user);
          if (extra.passkey) await repos.passkeys.insert({ ...extra.passkey, userId: user.userId });
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw exists();
        throw error;
      }
      // A node may still hold a deleted user of the same id.
      deps.invalidation.userChanged(user.userId);
      return user;
    },

    async update(userId: string, body: UserUpdate): Promise<User> {
      assertMetadataFieldNames(body);
      const before = await get(userId);
      const connection = await databaseConnection(ownIdentity(before).connection);
      if (body.connection !== undefined) await assertOwnConnection(before, body.connection);
      if (typeof body.password === 'string') {
        const own = ownIdentity(before);
        await assertNewPassword(connection, body.password, ownerAfter(before, body), async (count) => [
          ...(own.passwordHash !== undefined ? [own.passwordHash] : []),
          ...(await store.passwordHistory.recent(own, count - 1)),
        ]);
      }
      assertUsernameRule(connection, body.username, 'update');
      if (body.email === null)
        throw new BadRequest(
          'invalid_body',
          'Payload validation error: email cannot be removed from a database user.',
        );
      // Hashing takes tens of milliseconds: done before the row is locked.
      const newHash = typeof body.password === 'string' ? await hashPassword(body.password) : undefined;
      try {
        // Metadata merges read the row and write it back: a locked read keeps concurrent PATCHes from undoing each other.
        const updated = await store.transaction(async (repos) => {
          const current = await repos.users.findForUpdate(userId);
          if (!current) throw notFound();
          const next = applyUpdate(current, body, newHash, now());
          if (newHash !== undefined) await rememberPassword(repos, connection, current, next.updatedAt);
          const stored = await repos.users.update(next);
          if (!stored) throw notFound();
          // ASVS V3.3.3: a new password or a block ends the user's sessions in every application too.
          const ended =
            newHash !== undefined ? 'password_changed' : body.blocked === true ? 'user_blocked' : undefined;
          if (ended) {
            const at = Math.floor(deps.clock.now() / 1000);
            await repos.refreshTokens.revokeForUser(userId, at, ended);
            // And their SSO sessions: the next /authorize asks them to sign in (a blocked user cannot).
            await repos.sessions.revokeForUser(userId, at);
          }
          return stored;
        });
        // After the commit: every node forgets the user (a block refuses their tokens at once).
        deps.invalidation.userChanged(userId);
        return updated;
      } catch (error) {
        if (isUniqueViolation(error)) throw exists();
        throw error;
      }
    },

    async remove(userId: string): Promise<void> {
      await store.users.delete(userId);
      deps.invalidation.userChanged(userId);
      // The SSO sessions of a deleted user are of no use to anyone (Auth0 ends them too).
      await store.sessions.deleteForUser(userId);
    },
  };
}

/**
 * A database user has a username exactly when its connection requires one: it must be given on create,
 * may not be removed (null) on update, and is refused when the connection does not use usernames.
 */
function assertUsernameRule(
  connection: Connection,
  username: string | null | undefined,
  operation: 'create' | 'update',
): void {
  const required = connection.options['requires_username'] === true;
  if (!required && typeof username === 'string') {
    throw new BadRequest(
      'invalid_body',
      'Payload validation error: this connection does not use usernames (requires_username is off).',
    );
  }
  if (required && operation === 'create' && username === undefined) {
    throw new BadRequest('invalid_body', "Payload validation error: 'Missing required property: username'.");
  }
  if (required && username === null) {
    throw new BadRequest(
      'invalid_body',
      'Payload validation error: username cannot be removed: this connection requires usernames.',
    );
  }
}

/** The user after a PATCH: root fields replace, metadata merges one level deep (null removes a key). */
function applyUpdate(current: User, body: UserUpdate, newHash: string | undefined, at: string): User {
  const email = body.email?.toLowerCase();
  const userMetadata = mergeMetadata(current.userMetadata, body.user_metadata);
  const appMetadata = mergeMetadata(current.appMetadata, body.app_metadata);
  assertMetadataSize('user_metadata', userMetadata);
  assertMetadataSize('app_metadata', appMetadata);
  const text = (value: string | null | undefined, was: string | undefined) =>
    value === undefined ? was : (value ?? undefined);
  return {
    ...current,
    email: email ?? current.email,
    // A new email is unverified unless the request says otherwise.
    emailVerified:
      body.email_verified ??
      (email !== undefined && email !== current.email?.toLowerCase() ? false : current.emailVerified),
    username: text(body.username, current.username),
    phoneNumber: text(body.phone_number, current.phoneNumber),
    phoneVerified: body.phone_verified ?? current.phoneVerified,
    name: text(body.name, current.name),
    givenName: text(body.given_name, current.givenName),
    familyName: text(body.family_name, current.familyName),
    nickname: text(body.nickname, current.nickname),
    picture: text(body.picture, current.picture),
    blocked: body.blocked ?? current.blocked,
    userMetadata,
    appMetadata,
    lastPasswordReset: newHash !== undefined ? at : current.lastPasswordReset,
    updatedAt: at,
    // The root login names are those of the user's own identity, where sign-in looks them up.
    identities: current.identities.map((i) =>
      isOwnIdentity(current, i)
        ? {
            ...i,
            email: email ?? i.email,
            username: text(body.username, i.username),
            passwordHash: newHash ?? i.passwordHash,
            updatedAt: at,
          }
        : i,
    ),
  };
}

/** `password` goes through the policy; an imported `custom_password_hash` (bcrypt only) is kept as is. */
async function initialPasswordHash(connection: Connection, body: UserCreate): Promise<string> {
  if (body.password !== undefined && body.custom_password_hash !== undefined) {
    throw new BadRequest(
      'invalid_body',
      'Payload validation error: password and custom_password_hash cannot be used together.',
    );
  }
  if (body.custom_password_hash !== undefined) return importedHash(body.custom_password_hash);
  if (body.password === undefined)
    throw new BadRequest('invalid_body', "Payload validation error: 'Missing required property: password'.");
  await assertNewPassword(connection, body.password, {
    email: body.email,
    username: body.username,
    name: body.name,
    nickname: body.nickname,
    givenName: body.given_name,
    familyName: body.family_name,
    userMetadata: body.user_metadata,
  });
  return hashPassword(body.password);
}

// Modular crypt format as Auth0 exports it: $2a$/$2b$/$2y$, two-digit cost, 22 salt + 31 hash characters.
const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

function importedHash(custom: CustomPasswordHash): string {
  if (custom.algorithm !== 'bcrypt') {
    throw new BadRequest(
      'invalid_body',
      `Payload validation error: custom_password_hash algorithm ${custom.algorithm} is not supported; only bcrypt is supported.`,
    );
  }
  const extra = (['salt', 'password', 'keys', 'parameters'] as const).filter((k) => custom[k] !== undefined);
  if (extra.length > 0 || custom.hash.digest !== undefined || custom.hash.key !== undefined) {
    throw new BadRequest(
      'invalid_body',
      'Payload validation error: a bcrypt custom_password_hash carries its salt and cost in hash.value; ' +
        'salt, password, keys, parameters, hash.digest and hash.key are not allowed.',
    );
  }
  if (custom.hash.encoding !== undefined && custom.hash.encoding !== 'utf8') {
    throw new BadRequest(
      'invalid_body',
      'Payload validation error: custom_password_hash hash.encoding must be utf8 for bcrypt.',
    );
  }
  const cost = BCRYPT_HASH.test(custom.hash.value) ? bcryptCost(custom.hash.value) : undefined;
  if (cost === undefined) {
    throw new BadRequest(
      'invalid_body',
      'Payload validation error: custom_password_hash hash.value is not a bcrypt hash ($2a$, $2b$ or $2y$).',
    );
  }
  if (cost > BCRYPT_MAX_COST) {
    throw new BadRequest(
      'invalid_body',
      `Payload validation error: custom_password_hash bcrypt cost ${cost} is above ${BCRYPT_MAX_COST}, the highest accepted (Auth0 hashes with cost 10); ask the user to reset the password instead.`,
    );
  }
  return custom.hash.value;
}

/** The profile the user will have once `body` is applied, for the personal-data password option. */
function ownerAfter(user: User, body: UserUpdate): PasswordOwner {
  const pick = (value: string | null | undefined, was: string | undefined) =>
    value === undefined ? was : (value ?? undefined);
  return {
    email: pick(body.email, user.email),
    username: pick(body.username, user.username),
    name: pick(body.name, user.name),
    nickname: pick(body.nickname, user.nickname),
    givenName: pick(body.given_name, user.givenName),
    familyName: pick(body.family_name, user.familyName),
    userMetadata: { ...user.userMetadata, ...body.user_metadata },
  };
}

/** With password_history on, the password being replaced joins the identity's history (the current one counts too). */
async function rememberPassword(
  repos: Repositories,
  connection: Connection,
  current: User,
  at: string,
): Promise<void> {
  const keep = passwordOptionsOf(connection.options).historySize - 1;
  const own = ownIdentity(current);
  if (keep <= 0 || own.passwordHash === undefined) return;
  await repos.passwordHistory.add(own, own.passwordHash, at, keep);
}

/** Auth0 reserves these app_metadata properties for the user record itself. */
const RESERVED_APP_METADATA = new Set([
  '__tenant',
  '_id',
  'blocked',
  'clientID',
  'created_at',
  'email_verified',
  'email',
  'globalClientID',
  'global_client_id',
  'identities',
  'lastIP',
  'lastLogin',
  'loginsCount',
  'metadata',
  'multifactor_last_modified',
  'multifactor',
  'updated_at',
  'user_id',
]);

/**
 * Auth0's metadata rules: field names, at any depth, must not contain `.` or `$` (a dotted name could not
 * be told apart from a path in a search either), and app_metadata must not use a reserved property.
 * Every other key (line breaks, emoji, any Unicode) is kept exactly.
 */
function assertMetadataFieldNames(body: {
  user_metadata?: Record<string, unknown> | null | undefined;
  app_metadata?: Record<string, unknown> | null | undefined;
}): void {
  for (const field of ['user_metadata', 'app_metadata'] as const) {
    const value = body[field];
    if (value === null || value === undefined) continue;
    if (field === 'app_metadata') {
      const reserved = Object.keys(value).find((k) => RESERVED_APP_METADATA.has(k));
      if (reserved !== undefined) {
        throw new BadRequest(
          'invalid_body',
          `Payload validation error: '${reserved} is a reserved property name' on property app_metadata.`,
        );
      }
    }
    const bad = findDottedName(value, field);
    if (bad !== undefined) {
      throw new BadRequest(
        'invalid_body',
        `Payload validation error: 'field names must not contain "." or "$": ${JSON.stringify(bad.name)}' on property ${bad.at}.`,
      );
    }
  }
}

function findDottedName(value: unknown, at: string): { name: string; at: string } | undefined {
  if (Array.isArray(value)) {
    for (const item of value) {
      const bad = findDottedName(item, at);
      if (bad) return bad;
    }
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  for (const [name, child] of Object.entries(value)) {
    if (name.includes('.') || name.includes('$')) return { name, at };
    const bad = findDottedName(child, `${at}.${name}`);
    if (bad) return bad;
  }
  return undefined;
}

/** The merge can outgrow what one request may send; the stored object must stay within the same limit. */
function assertMetadataSize(field: 'user_metadata' | 'app_metadata', merged: Record<string, unknown>): void {
  const count = Object.keys(merged).length;
  if (count > METADATA_MAX_PROPERTIES) {
    throw new BadRequest(
      'invalid_body',
      `Payload validation error: ${field} would have ${count} properties after the merge; at most ${METADATA_MAX_PROPERTIES} are allowed.`,
    );
  }
}

/** Auth0: metadata merges one level deep; a null value removes the key; null for the whole object clears it. */
function mergeMetadata(
  current: Readonly<Record<string, unknown>>,
  patch: Record<string, unknown> | null | undefined,
): Record<string, unknown> {
  if (patch === undefined) return { ...current };
  if (patch === null) return {};
  const merged: Record<string, unknown> = { ...current, ...patch };
  return Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== null));
}
