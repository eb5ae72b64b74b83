import {
  GUARDIAN_FACTORS,
  GUARDIAN_KEY,
  guardianConfig,
  type GuardianConfig,
  type GuardianFactor,
  type MfaPolicy,
} from '../../mfa/guardian.js';
import type { Store } from '../../storage/repositories/index.js';

export function createGuardianService(deps: { readonly store: Store }) {
  const { store } = deps;

  /** Reads, changes and writes the configuration under the tenant row's lock: concurrent PUTs both land. */
  async function change(edit: (current: GuardianConfig) => GuardianConfig): Promise<GuardianConfig> {
    return store.transaction(async (repos) => {
      await repos.tenants.lock();
      const settings = (await repos.tenants.find())?.settings ?? {};
      const next = edit(guardianConfig(settings));
      await repos.tenants.updateSettings({
        ...settings,
        [GUARDIAN_KEY]: { enabled: [...next.enabled], policies: [...next.policies] },
      });
      return next;
    });
  }

  const current = async () => guardianConfig((await store.tenants.find())?.settings ?? {});

  return {
    /** Every factor with its state; no trials here, so none has expired. */
    async factors() {
      const { enabled } = await current();
      return GUARDIAN_FACTORS.map((name) => ({
        name,
        enabled: enabled.includes(name),
        trial_expired: false,
      }));
    },

    async setFactor(name: GuardianFactor, enabled: boolean): Promise<{ enabled: boolean }> {
      await change((config) => ({
        ...config,
        enabled: GUARDIAN_FACTORS.filter((f) => (f === name ? enabled : config.enabled.includes(f))),
      }));
      return { enabled };
    },

    async policies(): Promise<MfaPolicy[]> {
      return [...(await current()).policies];
    },

    async setPolicies(policies: readonly MfaPolicy[]): Promise<MfaPolicy[]> {
      return [...(await change((config) => ({ ...config, policies }))).policies];
    },
  };
}
