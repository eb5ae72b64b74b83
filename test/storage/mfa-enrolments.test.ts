import { afterEach, describe, expect, it } from 'vitest';
import type { MfaEnrolment } from '../../src/domain/mfa-enrolment.js';
import { testBackends } from '../helpers/backends.js';
import { openTestStore, userRow, type TestStore } from '../helpers/store.js';

const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

const enrolment = (id: string, userId: string, over: Partial<MfaEnrolment> = {}): MfaEnrolment => ({
  id,
  userId,
  type: 'totp',
  secret: SECRET,
  codeHash: undefined,
  confirmed: false,
  name: undefined,
  createdAt: '2026-01-01T00:00:00.000Z',
  enrolledAt: undefined,
  lastAuthAt: undefined,
  ...over,
});

describe.each(testBackends())('mfa_enrolments on $name', (backend) => {
  let t: TestStore | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('seals TOTP secrets at rest, confirms once and goes with its user', async () => {
    t = await openTestStore(backend);
    const { store, storage } = t;
    const user = userRow('auth0|mfa-user');
    await store.users.insert(user);
    await store.mfaEnrolments.insert(enrolment('totp|dev_1', user.userId));
    const raw = await storage.db
      .selectFrom('mfa_enrolments')
      .select(['secret', 'confirmed'])
      .where('id', '=', 'totp|dev_1')
      .executeTakeFirstOrThrow();
    expect(raw.secret).not.toContain(SECRET);
    expect(raw.secret).toMatch(/^v1\./);
    expect(raw.confirmed).toBe(0);
    expect(await store.mfaEnrolments.listConfirmed(user.userId)).toEqual([]);

    expect(await store.mfaEnrolments.confirm(user.userId, 'totp|dev_1', '2026-01-01T00:01:00.000Z')).toBe(
      true,
    );
    expect(await store.mfaEnrolments.confirm(user.userId, 'totp|dev_1', '2026-01-01T00:02:00.000Z')).toBe(
      false,
    );
    expect(await store.mfaEnrolments.listConfirmed(user.userId, 'totp')).toEqual([
      enrolment('totp|dev_1', user.userId, {
        confirmed: true,
        enrolledAt: '2026-01-01T00:01:00.000Z',
        lastAuthAt: '2026-01-01T00:01:00.000Z',
      }),
    ]);
    expect(await store.mfaEnrolments.listConfirmed(user.userId, 'recovery-code')).toEqual([]);

    await store.users.delete(user.userId);
    const left = await storage.db.selectFrom('mfa_enrolments').select('id').execute();
    expect(left).toEqual([]);
  });

  it('keeps a phone enrolment’s number and channel, and updates a confirmed one’s name and channel', async () => {
    t = await openTestStore(backend);
    const { store } = t;
    const user = userRow('auth0|mfa-phone');
    await store.users.insert(user);
    const phone = enrolment('phone|dev_1', user.userId, {
      type: 'phone',
      secret: undefined,
      address: '+442070000000',
      channel: 'sms',
    });
    await store.mfaEnrolments.insert(phone);
    // Pending: nothing to update.
    expect(await store.mfaEnrolments.update(user.userId, 'phone|dev_1', { channel: 'voice' })).toBe(false);
    expect(await store.mfaEnrolments.confirm(user.userId, 'phone|dev_1', '2026-01-01T00:01:00.000Z')).toBe(
      true,
    );
    expect(await store.mfaEnrolments.update(user.userId, 'phone|dev_1', { channel: 'voice' })).toBe(true);
    expect(await store.mfaEnrolments.update(user.userId, 'phone|dev_1', { name: 'Mobile' })).toBe(true);
    expect(await store.mfaEnrolments.update('auth0|other', 'phone|dev_1', { name: 'x' })).toBe(false);
    expect(await store.mfaEnrolments.findForUser(user.userId, 'phone|dev_1')).toEqual({
      ...phone,
      confirmed: true,
      name: 'Mobile',
      channel: 'voice',
      enrolledAt: '2026-01-01T00:01:00.000Z',
      lastAuthAt: '2026-01-01T00:01:00.000Z',
    });
  });
});
