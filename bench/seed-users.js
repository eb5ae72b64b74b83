import { sql } from 'kysely';

/** Inserts `count` users with their identities (varied emails, names, metadata, connections, logins). */
export async function seedUsers(storage, count) {
  const at = (i) => new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString();
  const rows = [];
  const identities = [];
  for (let i = 0; i < count; i++) {
    const id = i.toString(16).padStart(24, '0');
    const email = `user${i}@${i % 7 === 0 ? 'acme' : 'example'}.com`;
    identities.push({
      tenant_id: 'default',
      user_id: `auth0|${id}`,
      provider: 'auth0',
      identity_user_id: id,
      connection: i % 10 === 0 ? 'partners' : 'Username-Password-Authentication',
      is_social: 0,
      email,
      email_norm: email,
      username: null,
      username_norm: null,
      password_hash: null,
      profile_data: '{}',
      created_at: at(i),
      updated_at: at(i),
    });
    rows.push({
      tenant_id: 'default',
      user_id: `auth0|${id}`,
      email: `user${i}@${i % 7 === 0 ? 'acme' : 'example'}.com`,
      email_norm: `user${i}@${i % 7 === 0 ? 'acme' : 'example'}.com`,
      email_verified: i % 2,
      username: null,
      username_norm: null,
      phone_number: null,
      phone_verified: 0,
      name: `User Number${i}`,
      name_norm: `user number${i}`,
      given_name: 'User',
      family_name: `Number${i}`,
      nickname: `user${i}`,
      picture: null,
      user_metadata: JSON.stringify({ plan: ['gold', 'silver', 'bronze'][i % 3], n: i }),
      app_metadata: JSON.stringify({ tier: i % 5 }),
      last_password_reset: null,
      blocked: i % 1000 === 0 ? 1 : 0,
      logins_count: i % 200,
      last_login: at(count - i),
      last_ip: null,
      created_at: at(i),
      updated_at: at(i),
    });
  }
  const insert = async (table, all) => {
    for (let i = 0; i < all.length; i += 500) {
      await storage.db
        .insertInto(table)
        .values(all.slice(i, i + 500))
        .execute();
    }
  };
  await insert('users', rows);
  // Fresh statistics, or PostgreSQL checks each identity's foreign key with a plan made for an empty table.
  await sql`analyze`.execute(storage.db);
  await insert('identities', identities);
}
