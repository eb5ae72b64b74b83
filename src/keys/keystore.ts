import { createPublicKey, type KeyObject, type webcrypto } from 'node:crypto';
import { importPKCS8 } from 'jose';

type CryptoKey = webcrypto.CryptoKey;
import type { SigningKey } from '../domain/signing-key.js';
import { certDerBase64, certX5t } from './generate.js';

export interface Jwk {
  readonly kty: 'RSA';
  readonly use: 'sig';
  readonly n: string;
  readonly e: string;
  readonly kid: string;
  readonly x5t: string;
  readonly x5c: readonly string[];
  readonly alg?: 'RS256';
}

interface LoadedKey {
  readonly kid: string;
  readonly publicKey: KeyObject;
}

/**
 * The tenant's signing keys in memory: the current private key, the verifiable public keys and the
 * JWKS document. Reloaded from storage after rotation/revocation, and periodically so that several
 * nodes converge.
 */
export class Keystore {
  private current: { kid: string; pem: string; byAlg: Map<string, Promise<CryptoKey>> } | undefined;
  private verifiable = new Map<string, LoadedKey>();
  private jwks: { keys: Jwk[] } = { keys: [] };
  private loadedAt = 0;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly loadKeys: () => Promise<SigningKey[]>,
    private readonly now: () => number,
    private readonly refreshMs = 30_000,
  ) {}

  /** Loads keys from storage now. */
  async reload(): Promise<void> {
    const keys = await this.loadKeys();
    const live = keys.filter((k) => k.revokedAt === undefined && k.state !== 'retired');
    const current = keys.find((k) => k.state === 'current');
    this.current = current && { kid: current.kid, pem: current.privateKeyPem, byAlg: new Map() };
    this.verifiable = new Map(
      live.map((k) => [
        k.kid,
        { kid: k.kid, publicKey: createPublicKey({ key: { ...k.publicJwk }, format: 'jwk' }) },
      ]),
    );
    // Auth0 publishes current then next; previous keys stay until revoked so old tokens verify.
    const order = { current: 0, next: 1, previous: 2, retired: 3 } as const;
    this.jwks = {
      keys: [...live]
        .sort((a, b) => order[a.state] - order[b.state])
        .map((k) => ({
          kty: 'RSA',
          use: 'sig',
          n: String(k.publicJwk['n']),
          e: String(k.publicJwk['e']),
          kid: k.kid,
          x5t: certX5t(k.cert),
          x5c: [certDerBase64(k.cert)],
          alg: 'RS256',
        })),
    };
    this.loadedAt = this.now();
  }

  /** Reloads when the cached view is older than the refresh interval; nothing to wait for otherwise. */
  ensureFresh(): Promise<void> | undefined {
    return this.now() - this.loadedAt < this.refreshMs ? undefined : this.reloadIfOlderThan(this.refreshMs);
  }

  /**
   * For a token whose kid is unknown: another node may just have rotated. At most one reload a second, so
   * tokens with made-up kids cannot turn every request into a database read.
   */
  async lookAgain(): Promise<void> {
    await this.reloadIfOlderThan(1000);
  }

  private async reloadIfOlderThan(ms: number): Promise<void> {
    if (this.now() - this.loadedAt < ms) return;
    this.loading ??= this.reload().finally(() => {
      this.loading = undefined;
    });
    await this.loading;
  }

  /**
   * The current key as a WebCrypto key for `alg`, imported once: jose signs through WebCrypto, which runs
   * the RSA work on libuv's thread pool and keeps the event loop free.
   * @throws Error when no current key exists (bootstrap not run).
   */
  async signingKey(alg: 'RS256' | 'RS512' | 'PS256'): Promise<{ kid: string; privateKey: CryptoKey }> {
    const current = this.current;
    if (!current) throw new Error('no current signing key');
    let key = current.byAlg.get(alg);
    if (!key) {
      key = importPKCS8(current.pem, alg);
      current.byAlg.set(alg, key);
    }
    return { kid: current.kid, privateKey: await key };
  }

  publicKey(kid: string): KeyObject | undefined {
    return this.verifiable.get(kid)?.publicKey;
  }

  /** The verifiable key `kid`, after a fresh look when it is unknown here (another node may just have rotated). */
  async findPublicKey(kid: string): Promise<KeyObject | undefined> {
    await this.ensureFresh();
    const key = this.publicKey(kid);
    if (key) return key;
    await this.lookAgain();
    return this.publicKey(kid);
  }

  /**
   * Auth0 compat: tenant flag `remove_alg_from_jwks` drops `alg`, so strict verifiers (jose) accept the same
   * keys for PS256 and RS512 tokens.
   */
  jwksDocument(options: { readonly includeAlg: boolean } = { includeAlg: true }): { keys: Jwk[] } {
    if (options.includeAlg) return this.jwks;
    return { keys: this.jwks.keys.map(({ alg: _alg, ...key }) => key) };
  }
}
