import { randomBytes } from 'node:crypto';
import { userIdProvider, userIdValue, type Identity, type User } from '../../src/domain/user.js';
import { createSecretBox } from '../../src/lib/secret-box.js';
import { createStorage, dropSchema, type Storage } from '../../src/storage/db.js';
import { aloneOnTheDatabase, migrateToLatest } from '../../src/storage/migrate.js';
import { createStore, type Store } from '../../src/storage/repositories/index.js';
import type { TestBackend } from './backends.js';

export interface TestStore {
  readonly store: Store;
  /** For the tests that look at rows no repository reads. */
  readonly storage: Storage;
  close(): Promise<void>;
}

/** A migrated store for the default tenant on its own database (SQLite :memory: or a new PostgreSQL schema). */
export async function openTestStore(backend: TestBackend): Promise<TestStore> {
  const schema = backend.name === 'postgres' ? `s_${randomBytes(6).toString('hex')}` : undefined;
  const storage = await createStorage(backend.url, schema === undefined ? {} : { schema });
  await migrateToLatest(storage);
  const store = createStore(storage, 'default', createSecretBox('x'.repeat(32)));
  await store.tenants.ensure({}, '2024-01-01T00:00:00.000Z');
  return {
    store,
    storage,
    async close() {
      await storage.close();
      if (schema !== undefined) await dropSchema(backend.url, schema);
    },
  };
}

/** What a test says about the user's own identity, beside the root profile. */
export interface OwnIdentityFields {
  readonly connection?: string;
  readonly passwordHash?: string;
}

/**
 * A user of the default directory with every optional field empty; `over` fills in the rest, and its own
 * identity carries the same email and username.
 */
export function userRow(id: string, over: Partial<User> & OwnIdentityFields = {}): User {
  const { connection, passwordHash, ...root } = over;
  const user = {
    tenantId: 'default',
    userId: `auth0|${id}`,
    email: undefined,
    emailVerified: false,
    username: undefined,
    phoneNumber: undefined,
    phoneVerified: false,
    name: undefined,
    givenName: undefined,
    familyName: undefined,
    nickname: undefined,
    picture: undefined,
    userMetadata: {},
    appMetadata: {},
    lastPasswordReset: undefined,
    blocked: false,
    loginsCount: 0,
    lastLogin: undefined,
    lastIp: undefined,
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
    ...root,
  };
  return {
    identities: [ownIdentityOf(user, connection ?? 'Username-Password-Authentication', passwordHash)],
    ...user,
  };
}

/** The identity a user id names, with the user's login names. */
export function ownIdentityOf(
  user: Pick<User, 'userId' | 'email' | 'username' | 'createdAt'>,
  connection: string,
  passwordHash: string | undefined,
): Identity {
  return {
    provider: userIdProvider(user.userId),
    userId: userIdValue(user.userId),
    connection,
    isSocial: false,
    email: user.email,
    username: user.username,
    passwordHash,
    profileData: {},
    createdAt: user.createdAt,
    updatedAt: user.createdAt,
  };
}

/** The tables of this storage's own schema, sorted, without Kysely's: other test runs share the PostgreSQL database. */
export async function ownTableNames(storage: Storage, schema: string | undefined): Promise<string[]> {
  // Listing every schema's tables while another test file migrates its own fails: see aloneOnTheDatabase.
  const tables = await aloneOnTheDatabase(storage, () => storage.db.introspection.getTables());
  return tables
    .filter((t) => schema === undefined || t.schema === schema)
    .map((t) => t.name)
    .filter((n) => !n.startsWith('kysely_'))
    .sort();
}
