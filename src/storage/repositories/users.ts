import { sql, type Selectable } from 'kysely';
import type { DbOrTx, DialectName } from '../db.js';
import { precompiled, type CompiledQueries } from '../precompiled.js';
import type { IdentitiesTable, UsersTable } from '../schema.js';
import type { Identity, User } from '../../domain/user.js';
import type { SearchNode } from '../../users/search-query.js';
import { compileUserSearch } from '../user-search.js';
import { beforeDeadline } from '../search-deadline.js';
import type { SearchReads } from '../search-reads.js';
import { fromBool, fromJson, toBool, toJson } from '../json.js';
import type { Page } from './resource-servers.js';

export type UserSortField =
  'created_at' | 'updated_at' | 'last_login' | 'logins_count' | 'email' | 'name' | 'user_id';

export interface UserListQuery {
  readonly search: SearchNode | undefined;
  readonly connection?: string;
  readonly sort?: { readonly field: UserSortField; readonly direction: 'asc' | 'desc' };
}

const SORT_COLUMNS: Record<
  UserSortField,
  'created_at' | 'updated_at' | 'last_login' | 'logins_count' | 'email_norm' | 'name_norm' | 'user_id'
> = {
  created_at: 'created_at',
  updated_at: 'updated_at',
  last_login: 'last_login',
  logins_count: 'logins_count',
  email: 'email_norm',
  name: 'name_norm',
  user_id: 'user_id',
};

/** Auth0 answers a user search that runs longer than two seconds with 503. */
export const SEARCH_TIMEOUT_MS = 2_000;

export interface UserSearchOptions {
  readonly reads: SearchReads;
  readonly timeoutMs: number;
}

/** Whether a user may still act: it is not blocked, and since when it exists. */
export interface UserStanding {
  readonly blocked: boolean;
  /** ISO 8601. */
  readonly createdAt: string;
}

/** A user found through one of its identities: the identity holds the password that was presented. */
export interface LoginMatch {
  readonly user: User;
  readonly identity: Identity;
}

const lower = (v: string | undefined): string | null => (v === undefined ? null : v.toLowerCase());

type UserRow = Selectable<UsersTable>;
type IdentityRow = Selectable<IdentitiesTable>;

function toIdentity(row: IdentityRow): Identity {
  return {
    provider: row.provider,
    userId: row.identity_user_id,
    connection: row.connection,
    isSocial: toBool(row.is_social),
    email: row.email ?? undefined,
    username: row.username ?? undefined,
    passwordHash: row.password_hash ?? undefined,
    profileData: fromJson(row.profile_data),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toUser(row: UserRow, identities: readonly Identity[]): User {
  return {
    tenantId: row.tenant_id,
    userId: row.user_id,
    email: row.email ?? undefined,
    emailVerified: toBool(row.email_verified),
    username: row.username ?? undefined,
    phoneNumber: row.phone_number ?? undefined,
    phoneVerified: toBool(row.phone_verified),
    name: row.name ?? undefined,
    givenName: row.given_name ?? undefined,
    familyName: row.family_name ?? undefined,
    nickname: row.nickname ?? undefined,
    picture: row.picture ?? undefined,
    userMetadata: fromJson(row.user_metadata),
    appMetadata: fromJson(row.app_metadata),
    lastPasswordReset: row.last_password_reset ?? undefined,
    blocked: toBool(row.blocked),
    loginsCount: row.logins_count,
    lastLogin: row.last_login ?? undefined,
    lastIp: row.last_ip ?? undefined,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    // The user's own identity first, then linked ones in the order they were linked.
    identities: [...identities].sort(
      (a, b) =>
        Number(`${b.provider}|${b.userId}` === row.user_id) -
          Number(`${a.provider}|${a.userId}` === row.user_id) || a.createdAt.localeCompare(b.createdAt),
    ),
  };
}

function fromUser(u: User): UserRow {
  return {
    tenant_id: u.tenantId,
    user_id: u.userId,
    email: u.email ?? null,
    email_norm: lower(u.email),
    email_verified: fromBool(u.emailVerified),
    username: u.username ?? null,
    username_norm: lower(u.username),
    phone_number: u.phoneNumber ?? null,
    phone_verified: fromBool(u.phoneVerified),
    name: u.name ?? null,
    name_norm: lower(u.name),
    given_name: u.givenName ?? null,
    family_name: u.familyName ?? null,
    nickname: u.nickname ?? null,
    picture: u.picture ?? null,
    user_metadata: toJson(u.userMetadata),
    app_metadata: toJson(u.appMetadata),
    last_password_reset: u.lastPasswordReset ?? null,
    blocked: fromBool(u.blocked),
    logins_count: u.loginsCount,
    last_login: u.lastLogin ?? null,
    last_ip: u.lastIp ?? null,
    created_at: u.createdAt,
    updated_at: u.updatedAt,
  };
}

function fromIdentity(tenantId: string, userId: string, i: Identity): IdentityRow {
  return {
    tenant_id: tenantId,
    user_id: userId,
    provider: i.provider,
    identity_user_id: i.userId,
    connection: i.connection,
    is_social: fromBool(i.isSocial),
    email: i.email ?? null,
    email_norm: lower(i.email),
    username: i.username ?? null,
    username_norm: lower(i.username),
    password_hash: i.passwordHash ?? null,
    profile_data: toJson(i.profileData),
    created_at: i.createdAt,
    updated_at: i.updatedAt,
  };
}

/** Users with their identities: one aggregate, so a user is never read or written without them. */
export function createUserRepository(
  db: DbOrTx,
  tenantId: string,
  dialect: DialectName,
  search: UserSearchOptions,
  compiled: CompiledQueries,
) {
  const users = () => db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId);
  // What every sign-in reads and writes of its user: compiled once (see precompiled).
  const shared = (key: string) => ({ cache: compiled, key: `users.${key}` });
  const userQuery = precompiled(
    db,
    1,
    (userId: string) => users().where('user_id', '=', userId),
    shared('one'),
  );
  const identitiesQuery = precompiled(
    db,
    1,
    (userId: string) =>
      db.selectFrom('identities').selectAll().where('tenant_id', '=', tenantId).where('user_id', '=', userId),
    shared('identitiesOfOne'),
  );
  const recordLoginQuery = precompiled(
    db,
    3,
    (at: string, ip: string, userId: string) =>
      db
        .updateTable('users')
        .set((eb) => ({ last_login: at, last_ip: ip, logins_count: eb('logins_count', '+', 1) }))
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', userId)
        .where('blocked', '=', fromBool(false))
        .returningAll(),
    shared('recordLogin'),
  );
  const identitiesOf = async (userIds: readonly string[]): Promise<Map<string, Identity[]>> => {
    const byUser = new Map<string, Identity[]>();
    if (userIds.length === 0) return byUser;
    const ids = [...new Set(userIds)];
    const rows =
      ids.length === 1
        ? (await identitiesQuery(ids[0] ?? '')).rows
        : await db
            .selectFrom('identities')
            .selectAll()
            .where('tenant_id', '=', tenantId)
            .where('user_id', 'in', ids)
            .execute();
    for (const row of rows) {
      const list = byUser.get(row.user_id) ?? [];
      list.push(toIdentity(row));
      byUser.set(row.user_id, list);
    }
    return byUser;
  };
  const withIdentities = async (rows: readonly UserRow[]): Promise<User[]> => {
    const identities = await identitiesOf(rows.map((r) => r.user_id));
    return rows.map((r) => toUser(r, identities.get(r.user_id) ?? []));
  };
  const one = async (row: UserRow | undefined): Promise<User | undefined> =>
    row && (await withIdentities([row]))[0];
  // Identities whose email or username equals the lower-cased login; the oldest first.
  const byLogin = (norm: string) =>
    db
      .selectFrom('identities')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where((eb) => eb.or([eb('email_norm', '=', norm), eb('username_norm', '=', norm)]))
      .orderBy('created_at')
      .orderBy('user_id');
  const loginQuery = precompiled(
    db,
    2,
    (norm: string, connection: string) => byLogin(norm).where('connection', '=', connection).limit(1),
    shared('byLogin'),
  );
  const matches = async (rows: readonly IdentityRow[]): Promise<LoginMatch[]> => {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.user_id);
    const owners = await withIdentities(
      ids.length === 1
        ? (await userQuery(ids[0] ?? '')).rows
        : await users().where('user_id', 'in', ids).execute(),
    );
    const byId = new Map(owners.map((u) => [u.userId, u]));
    return rows.flatMap((row) => {
      const user = byId.get(row.user_id);
      return user ? [{ user, identity: toIdentity(row) }] : [];
    });
  };
  const filtered = (query: UserListQuery, deadline: number) => {
    let q = db.selectFrom('users');
    if (dialect === 'sqlite') q = q.where(beforeDeadline(deadline));
    q = q.where('users.tenant_id', '=', tenantId);
    const connection = query.connection;
    if (connection !== undefined) {
      q = q.where((eb) =>
        eb.exists(
          eb
            .selectFrom('identities')
            .select(sql.lit(1).as('one'))
            .whereRef('identities.tenant_id', '=', 'users.tenant_id')
            .whereRef('identities.user_id', '=', 'users.user_id')
            .where('identities.connection', '=', connection),
        ),
      );
    }
    const search = query.search;
    if (search) q = q.where((eb) => compileUserSearch(search, eb, dialect, tenantId));
    return q;
  };
  const writeIdentities = async (user: User, mode: 'insert' | 'update'): Promise<void> => {
    for (const identity of user.identities) {
      const row = fromIdentity(tenantId, user.userId, identity);
      if (mode === 'insert') {
        await db.insertInto('identities').values(row).execute();
        continue;
      }
      await db
        .updateTable('identities')
        .set({
          email: row.email,
          email_norm: row.email_norm,
          username: row.username,
          username_norm: row.username_norm,
          password_hash: row.password_hash,
          profile_data: row.profile_data,
          updated_at: row.updated_at,
        })
        .where('tenant_id', '=', tenantId)
        .where('provider', '=', row.provider)
        .where('identity_user_id', '=', row.identity_user_id)
        .where('user_id', '=', user.userId)
        .execute();
    }
  };

  return {
    async findById(userId: string): Promise<User | undefined> {
      return one((await userQuery(userId)).rows[0]);
    },
    /** What a token acting for the user needs to know of it, in one narrow read (no identities). */
    async findStanding(userId: string): Promise<UserStanding | undefined> {
      const row = await db
        .selectFrom('users')
        .select(['blocked', 'created_at'])
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return row && { blocked: toBool(row.blocked), createdAt: row.created_at };
    },
    /** The users among `userIds` that exist, in the order of `userIds`. */
    async findByIds(userIds: readonly string[]): Promise<User[]> {
      if (userIds.length === 0) return [];
      const found = await withIdentities(await users().where('user_id', 'in', userIds).execute());
      const byId = new Map(found.map((u) => [u.userId, u]));
      return userIds.flatMap((id) => byId.get(id) ?? []);
    },
    /**
     * Inside a transaction: reads the user and holds the row until commit (PostgreSQL `FOR UPDATE`), so a
     * read-modify-write of the user and its identities runs one at a time. SQLite already serialises transactions.
     */
    async findForUpdate(userId: string): Promise<User | undefined> {
      const q = users().where('user_id', '=', userId);
      return one(await (dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst());
    },
    /**
     * Every user with this email, any connection, compared case-insensitively: by its own email or by the
     * email of an identity linked to it (a linked account is found as its primary).
     */
    async findByEmail(email: string): Promise<User[]> {
      const norm = email.toLowerCase();
      // One IN list, each half answered by its (tenant_id, email_norm) index.
      const own = db
        .selectFrom('users as own')
        .select('own.user_id')
        .where('own.tenant_id', '=', tenantId)
        .where('own.email_norm', '=', norm);
      const linked = db
        .selectFrom('identities')
        .select('identities.user_id')
        .where('identities.tenant_id', '=', tenantId)
        .where('identities.email_norm', '=', norm);
      return withIdentities(
        await users().where('user_id', 'in', own.unionAll(linked)).orderBy('created_at').execute(),
      );
    },
    /** The id of the user that signs in with this identity: its own user, or the primary it is linked to. */
    async findIdentityOwner(provider: string, identityUserId: string): Promise<string | undefined> {
      const row = await db
        .selectFrom('identities')
        .select('user_id')
        .where('tenant_id', '=', tenantId)
        .where('provider', '=', provider)
        .where('identity_user_id', '=', identityUserId)
        .executeTakeFirst();
      return row?.user_id;
    },
    /**
     * Moves an identity from one user to another (account linking and unlinking), with the profile it carries
     * there. Call inside a transaction.
     * @returns false when `from` no longer holds it.
     */
    async moveIdentity(
      identity: Pick<Identity, 'provider' | 'userId'>,
      from: string,
      to: string,
      profileData: Readonly<Record<string, unknown>>,
      at: string,
    ): Promise<boolean> {
      const result = await db
        .updateTable('identities')
        .set({ user_id: to, profile_data: toJson(profileData), updated_at: at })
        .where('tenant_id', '=', tenantId)
        .where('provider', '=', identity.provider)
        .where('identity_user_id', '=', identity.userId)
        .where('user_id', '=', from)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    /** Inserts the root profile alone: its identity already exists (an unlinked account, moved back to it). */
    async insertProfile(user: User): Promise<void> {
      await db
        .insertInto('users')
        .values({ ...fromUser(user), tenant_id: tenantId })
        .execute();
    },
    /** The identity of `connection` whose email or username equals `login` (case-insensitively), with its user. */
    async findByLogin(connection: string, login: string): Promise<LoginMatch | undefined> {
      const [row] = (await loginQuery(login.toLowerCase(), connection)).rows;
      return row && (await matches([row]))[0];
    },
    /** For each connection, the match `findByLogin` would find there. */
    async findAllByLogin(login: string): Promise<LoginMatch[]> {
      const firstPerConnection = new Map<string, IdentityRow>();
      for (const row of await byLogin(login.toLowerCase()).execute()) {
        if (!firstPerConnection.has(row.connection)) firstPerConnection.set(row.connection, row);
      }
      return matches([...firstPerConnection.values()]);
    },
    /**
     * A page of the users `query` finds; the search runs through `SearchReads`, outside any transaction.
     * @throws QueryTimeout when it runs past the search timeout.
     */
    async list(query: UserListQuery, page: Page): Promise<User[]> {
      const deadline = Date.now() + search.timeoutMs;
      let q = filtered(query, deadline).selectAll('users');
      q = query.sort
        ? q.orderBy(`users.${SORT_COLUMNS[query.sort.field]}`, query.sort.direction)
        : q.orderBy('users.created_at', 'asc');
      const compiled = q.orderBy('users.user_id').limit(page.limit).offset(page.offset).compile();
      return withIdentities(await search.reads.all(compiled, deadline));
    },
    /** @throws QueryTimeout when the count runs past the search timeout. */
    async count(query: UserListQuery): Promise<number> {
      const deadline = Date.now() + search.timeoutMs;
      const compiled = filtered(query, deadline)
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .compile();
      const [row] = await search.reads.all(compiled, deadline);
      return Number(row?.n ?? 0);
    },
    /** @throws the driver's unique violation when an identity's email/username already exists in its connection. */
    async insert(user: User): Promise<void> {
      await db
        .insertInto('users')
        .values({ ...fromUser(user), tenant_id: tenantId })
        .execute();
      await writeIdentities(user, 'insert');
    },
    /**
     * Writes the profile and the identities' login names and passwords; the login columns belong to
     * `recordLogin`, so an update never undoes a login. Call inside a transaction (two tables change).
     * @returns the user as stored afterwards, or undefined when it does not exist.
     * @throws the driver's unique violation on an email/username collision.
     */
    async update(user: User): Promise<User | undefined> {
      const {
        tenant_id: _t,
        user_id: _u,
        logins_count: _c,
        last_login: _l,
        last_ip: _i,
        ...rest
      } = fromUser(user);
      const row = await db
        .updateTable('users')
        .set(rest)
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', user.userId)
        .returningAll()
        .executeTakeFirst();
      if (!row) return undefined;
      await writeIdentities(user, 'update');
      return one(row);
    },
    /**
     * Counts a login by writing only the login columns (the counter incremented in SQL), so it cannot undo a
     * concurrent admin change. A rehashed password is stored only while the hash it replaces is still current.
     * @returns the user afterwards, or undefined when the user is gone or was blocked in the meantime.
     */
    async recordLogin(
      userId: string,
      login: {
        readonly at: string;
        readonly ip: string;
        readonly rehash?: {
          readonly identity: Pick<Identity, 'provider' | 'userId'>;
          readonly verified: string;
          readonly replacement: string;
        };
        /** The user's identities as the caller read them, to return without reading them again. */
        readonly identities?: readonly Identity[];
      },
    ): Promise<User | undefined> {
      const { rehash } = login;
      const [row] = (await recordLoginQuery(login.at, login.ip, userId)).rows;
      if (!row) return undefined;
      if (rehash) {
        await db
          .updateTable('identities')
          .set({ password_hash: rehash.replacement })
          .where('tenant_id', '=', tenantId)
          .where('user_id', '=', userId)
          .where('provider', '=', rehash.identity.provider)
          .where('identity_user_id', '=', rehash.identity.userId)
          .where('password_hash', '=', rehash.verified)
          .execute();
      }
      return rehash === undefined && login.identities !== undefined
        ? toUser(row, login.identities)
        : one(row);
    },
    /** Deletes the users whose own identity is in `connection`, and its linked accounts (the connection is being deleted). */
    async deleteByConnection(connection: string): Promise<void> {
      const own = db
        .selectFrom('identities')
        .select('user_id')
        .where('tenant_id', '=', tenantId)
        .where('connection', '=', connection)
        .where(sql<boolean>`provider || '|' || identity_user_id = user_id`);
      await db.deleteFrom('users').where('tenant_id', '=', tenantId).where('user_id', 'in', own).execute();
      // Accounts of the connection linked to users of other connections go too; their primaries stay.
      await db
        .deleteFrom('identities')
        .where('tenant_id', '=', tenantId)
        .where('connection', '=', connection)
        .execute();
    },
    async delete(userId: string): Promise<boolean> {
      const result = await db
        .deleteFrom('users')
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}
export type UserRepository = ReturnType<typeof createUserRepository>;
