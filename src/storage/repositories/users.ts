import type { Selectable } from 'kysely';
import type { DbOrTx, DialectName } from '../db.js';
import type { UsersTable } from '../schema.js';
import type { User } from '../../domain/user.js';
import type { SearchNode } from '../../users/search-query.js';
import { compileUserSearch } from '../user-search.js';
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

const lower = (v: string | undefined): string | null => (v === undefined ? null : v.toLowerCase());

export function createUserRepository(db: DbOrTx, tenantId: string, dialect: DialectName) {
  const toRecord = (row: Selectable<UsersTable>): User => ({
    tenantId: row.tenant_id,
    userId: row.user_id,
    connection: row.connection,
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
    passwordHash: row.password_hash ?? undefined,
    lastPasswordReset: row.last_password_reset ?? undefined,
    blocked: toBool(row.blocked),
    loginsCount: row.logins_count,
    lastLogin: row.last_login ?? undefined,
    lastIp: row.last_ip ?? undefined,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
  const toRow = (u: User): Selectable<UsersTable> => ({
    tenant_id: u.tenantId,
    user_id: u.userId,
    connection: u.connection,
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
    password_hash: u.passwordHash ?? null,
    last_password_reset: u.lastPasswordReset ?? null,
    blocked: fromBool(u.blocked),
    logins_count: u.loginsCount,
    last_login: u.lastLogin ?? null,
    last_ip: u.lastIp ?? null,
    created_at: u.createdAt,
    updated_at: u.updatedAt,
  });
  const base = () => db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId);
  // Email or username, compared case-insensitively; the oldest account first.
  const byLogin = (login: string) => {
    const norm = login.toLowerCase();
    return base()
      .where((eb) => eb.or([eb('email_norm', '=', norm), eb('username_norm', '=', norm)]))
      .orderBy('created_at');
  };
  const filtered = (query: UserListQuery) => {
    let q = db.selectFrom('users').where('tenant_id', '=', tenantId);
    if (query.connection !== undefined) q = q.where('connection', '=', query.connection);
    const search = query.search;
    if (search) q = q.where((eb) => compileUserSearch(search, eb, dialect));
    return q;
  };

  return {
    async findById(userId: string): Promise<User | undefined> {
      const row = await base().where('user_id', '=', userId).executeTakeFirst();
      return row && toRecord(row);
    },
    /** The users among `userIds` that exist, in the order of `userIds`. */
    async findByIds(userIds: readonly string[]): Promise<User[]> {
      if (userIds.length === 0) return [];
      const rows = await base().where('user_id', 'in', userIds).execute();
      const byId = new Map(rows.map((r) => [r.user_id, toRecord(r)]));
      return userIds.flatMap((id) => byId.get(id) ?? []);
    },
    /**
     * Inside a transaction: reads the user and holds the row until commit (PostgreSQL `FOR UPDATE`), so a
     * read-modify-write of the row runs one at a time. SQLite already serialises transactions.
     */
    async findForUpdate(userId: string): Promise<User | undefined> {
      const q = base().where('user_id', '=', userId);
      const row = await (dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
      return row && toRecord(row);
    },
    /** Every user with this email, any connection, compared case-insensitively. */
    async findByEmail(email: string): Promise<User[]> {
      const rows = await base().where('email_norm', '=', email.toLowerCase()).orderBy('created_at').execute();
      return rows.map(toRecord);
    },
    /** A user of `connection` whose email or username equals `login` (case-insensitively). */
    async findByLogin(connection: string, login: string): Promise<User | undefined> {
      const row = await byLogin(login).where('connection', '=', connection).executeTakeFirst();
      return row && toRecord(row);
    },
    /** For each connection, the user `findByLogin` would find there. */
    async findAllByLogin(login: string): Promise<User[]> {
      const rows = await byLogin(login).execute();
      const firstPerConnection = new Map<string, User>();
      for (const row of rows) {
        if (!firstPerConnection.has(row.connection)) firstPerConnection.set(row.connection, toRecord(row));
      }
      return [...firstPerConnection.values()];
    },
    async list(query: UserListQuery, page: Page): Promise<User[]> {
      let q = filtered(query).selectAll();
      if (query.sort) {
        q = q.orderBy(SORT_COLUMNS[query.sort.field], query.sort.direction);
      } else {
        q = q.orderBy('created_at', 'asc');
      }
      const rows = await q.orderBy('user_id').limit(page.limit).offset(page.offset).execute();
      return rows.map(toRecord);
    },
    async count(query: UserListQuery): Promise<number> {
      const row = await filtered(query)
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    /** @throws the driver's unique violation when email/username already exist in the connection. */
    async insert(user: User): Promise<void> {
      await db.insertInto('users').values(toRow(user)).execute();
    },
    /**
     * Writes the profile; the login columns belong to `recordLogin`, so an update never undoes a login.
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
      } = toRow(user);
      const row = await db
        .updateTable('users')
        .set(rest)
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', user.userId)
        .returningAll()
        .executeTakeFirst();
      return row && toRecord(row);
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
        readonly rehash?: { readonly verified: string; readonly replacement: string };
      },
    ): Promise<User | undefined> {
      const { rehash } = login;
      const row = await db
        .updateTable('users')
        .set((eb) => ({
          last_login: login.at,
          last_ip: login.ip,
          logins_count: eb('logins_count', '+', 1),
          ...(rehash
            ? {
                password_hash: eb
                  .case()
                  .when('password_hash', '=', rehash.verified)
                  .then(rehash.replacement)
                  .else(eb.ref('password_hash'))
                  .end(),
              }
            : {}),
        }))
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', userId)
        .where('blocked', '=', fromBool(false))
        .returningAll()
        .executeTakeFirst();
      return row && toRecord(row);
    },
    async deleteByConnection(connection: string): Promise<void> {
      await db
        .deleteFrom('users')
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
