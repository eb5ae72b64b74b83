import { ManagementClient, ManagementError } from 'auth0';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import type { User } from '../../../src/domain/user.js';
import { testBackends } from '../../helpers/backends.js';
import { MGMT_AUDIENCE } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { collect, SDK_DOMAIN, startSdkServer, type SdkServer } from '../../helpers/sdk.js';

const CURRENT_USER = [
  'read:current_user',
  'update:current_user_metadata',
  'create:current_user_metadata',
  'delete:current_user_metadata',
  'create:current_user_device_credentials',
  'delete:current_user_device_credentials',
];

// Seed 003 through auth0 v7's ManagementClient: a user's own token with current-user scopes, and the
// bootstrap client's any-user token, against a listening server.
describe.each(testBackends())('auth0 v7 ManagementClient: seed 003 endpoints on $name', (backend) => {
  let s: SdkServer;
  let make: Factories;
  let app: Client;
  beforeAll(async () => {
    s = await startSdkServer(backend);
    make = createFactories(s.t.deps);
    app = await make.client({ grantTypes: ['password'] });
    await make.enableConnection(app.clientId);
    for (const factor of ['otp', 'recovery-code'])
      await s.management.guardian.factors.set(factor as 'otp', { enabled: true });
  });
  afterAll(async () => {
    await s.close();
  });

  async function userToken(user: User): Promise<string> {
    const res = await s.fetch(`https://${SDK_DOMAIN}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'password',
        username: user.email,
        password: 'Pass-word-123',
        audience: MGMT_AUDIENCE,
        scope: CURRENT_USER.join(' '),
        client_id: app.clientId,
        client_secret: app.clientSecret,
      }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  }
  const asUser = async (user: User) =>
    new ManagementClient({ domain: SDK_DOMAIN, token: await userToken(user), fetch: s.fetch, maxRetries: 0 });
  const refusal = async (call: Promise<unknown>) => {
    const error = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ManagementError);
    return error as ManagementError;
  };
  const NOT_SUBJECT = 'User to be acted on does not match subject in bearer token.';

  /** A confirmed authenticator-app enrolment, written as a fixture (its enrolment flows have their own tests). */
  async function withTotp(user: User): Promise<string> {
    const at = new Date(s.t.clock.now()).toISOString();
    const id = `totp|dev_${user.userId.slice(-8)}`;
    await s.t.deps.store.mfaEnrolments.insert({
      id,
      userId: user.userId,
      type: 'totp',
      secret: 'JBSWY3DPEHPK3PXP',
      codeHash: undefined,
      confirmed: true,
      name: undefined,
      createdAt: at,
      enrolledAt: at,
      lastAuthAt: undefined,
    });
    return id;
  }

  it('users.get / update: current-user scopes on oneself only, user_metadata only', async () => {
    const me = await make.user();
    const other = await make.user();
    const mine = await asUser(me);
    expect((await mine.users.get(me.userId)).user_id).toBe(me.userId);
    const foreign = await refusal(mine.users.get(other.userId));
    expect(foreign.statusCode).toBe(403);
    expect(foreign.body).toMatchObject({ message: NOT_SUBJECT });
    const updated = await mine.users.update(me.userId, { user_metadata: { lang: 'fr', theme: 'dark' } });
    expect(updated.user_metadata).toEqual({ lang: 'fr', theme: 'dark' });
    const removed = await mine.users.update(me.userId, { user_metadata: { theme: null } });
    expect(removed.user_metadata).toEqual({ lang: 'fr' });
    expect((await refusal(mine.users.update(me.userId, { app_metadata: { plan: 'gold' } }))).statusCode).toBe(
      403,
    );
    expect((await refusal(mine.users.update(me.userId, { blocked: true }))).statusCode).toBe(403);
    // Any-user scopes act on everyone.
    expect((await s.management.users.get(other.userId)).user_id).toBe(other.userId);
  });

  it('users.enrollments.get and users.multifactor.deleteProvider', async () => {
    const me = await make.user();
    const other = await make.user();
    const totpId = await withTotp(me);
    await withTotp(other);
    const mine = await asUser(me);
    expect(await mine.users.enrollments.get(me.userId)).toEqual([
      expect.objectContaining({ id: totpId, status: 'confirmed', type: 'authenticator' }),
    ]);
    expect((await refusal(mine.users.enrollments.get(other.userId))).statusCode).toBe(403);
    expect(
      (await refusal(mine.users.multifactor.deleteProvider(other.userId, 'google-authenticator'))).statusCode,
    ).toBe(403);
    await mine.users.multifactor.deleteProvider(me.userId, 'google-authenticator');
    expect(await s.management.users.enrollments.get(me.userId)).toEqual([]);
    await s.management.users.multifactor.deleteProvider(other.userId, 'google-authenticator');
    expect(await s.management.users.enrollments.get(other.userId)).toEqual([]);
  });

  it('guardian.enrollments.delete, users.authenticators.deleteAll, users.regenerateRecoveryCode', async () => {
    const user = await make.user();
    const totpId = await withTotp(user);
    await s.management.guardian.enrollments.delete(totpId);
    expect(s.sent.at(-1)).toBe(`DELETE /api/v2/guardian/enrollments/${encodeURIComponent(totpId)}`);
    await withTotp(user);
    const { recovery_code } = await s.management.users.regenerateRecoveryCode(user.userId);
    expect(recovery_code).toMatch(/^[A-Z0-9]{24}$/);
    await s.management.users.authenticators.deleteAll(user.userId);
    expect(await s.t.deps.store.mfaEnrolments.listAll(user.userId)).toEqual([]);
  });

  it('deviceCredentials.createPublicKey / list / delete', async () => {
    const me = await make.user();
    const other = await make.user();
    const mine = await asUser(me);
    const theirs = await asUser(other);
    const { id } = await mine.deviceCredentials.createPublicKey({
      device_name: 'Pixel',
      type: 'public_key',
      value: 'MFkwEwYHKoZIzj0CAQ==',
      device_id: '0a1b2c3d',
    });
    expect(id).toMatch(/^dcr_/);
    const again = await refusal(
      mine.deviceCredentials.createPublicKey({
        device_name: 'Pixel',
        type: 'public_key',
        value: 'AA==',
        device_id: '0a1b2c3d',
      }),
    );
    expect(again.statusCode).toBe(409);
    const listed = await collect(
      await s.management.deviceCredentials.list({ user_id: me.userId, type: 'public_key' }),
    );
    expect(listed).toEqual([
      {
        id,
        device_name: 'Pixel',
        device_id: '0a1b2c3d',
        type: 'public_key',
        user_id: me.userId,
        client_id: app.clientId,
      },
    ]);
    const foreign = await refusal(theirs.deviceCredentials.delete(id));
    expect(foreign.statusCode).toBe(403);
    expect(foreign.body).toMatchObject({ message: NOT_SUBJECT });
    await mine.deviceCredentials.delete(id);
    expect(
      await collect(await s.management.deviceCredentials.list({ user_id: me.userId, type: 'public_key' })),
    ).toEqual([]);
  });
});
