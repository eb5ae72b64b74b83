import type { SigningKey } from '../../domain/signing-key.js';
import { BadRequest, NotFound } from '../../errors/api.js';
import type { Deps } from '../../server/deps.js';

const notFound = () => new NotFound('inexistent_key', 'Signing key not found');

export function createKeyService(deps: Deps) {
  const { store } = deps;
  const now = () => new Date(deps.clock.now()).toISOString();

  return {
    list: () => store.signingKeys.list(),

    async get(kid: string): Promise<SigningKey> {
      const key = (await store.signingKeys.list()).find((k) => k.kid === kid);
      if (!key) throw notFound();
      return key;
    },

    /** next → current, current → previous, previous → retired, and a fresh next key. */
    async rotate(): Promise<SigningKey> {
      // RSA generation is slow: do it before the transaction so the write stays short.
      const fresh = await deps.generateKey('next');
      const at = now();
      const current = await store.transaction(async (repos) => {
        await repos.tenants.lock();
        const keys = await repos.signingKeys.list();
        for (const key of keys.filter((k) => k.state === 'previous')) {
          await repos.signingKeys.updateState(key.kid, { state: 'retired' });
        }
        const oldCurrent = keys.find((k) => k.state === 'current');
        if (oldCurrent)
          await repos.signingKeys.updateState(oldCurrent.kid, { state: 'previous', currentUntil: at });
        const next = keys.find((k) => k.state === 'next');
        if (!next) throw new Error('no next signing key to promote');
        await repos.signingKeys.updateState(next.kid, { state: 'current', currentSince: at });
        await repos.signingKeys.insert(fresh);
        return { ...next, state: 'current' as const, currentSince: at };
      });
      await deps.keystore.reload();
      return current;
    },

    async revoke(kid: string): Promise<SigningKey> {
      const key = await this.get(kid);
      if (key.state === 'current' || key.state === 'next') {
        throw new BadRequest('invalid_body', `The ${key.state} signing key cannot be revoked; rotate first.`);
      }
      const revokedAt = key.revokedAt ?? now();
      await store.signingKeys.updateState(kid, { state: key.state, revokedAt });
      await deps.keystore.reload();
      return { ...key, revokedAt };
    },
  };
}
