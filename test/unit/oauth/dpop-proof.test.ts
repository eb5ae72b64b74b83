import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markProofUsed } from '../../../src/oauth/dpop/replay.js';
import { createDpopNonces } from '../../../src/oauth/dpop/nonce.js';
import {
  accessTokenHash,
  DpopProofError,
  publicUrl,
  verifyDpopProof,
  type ProofExpectations,
} from '../../../src/oauth/dpop/verify-proof.js';
import { createSqlOneTimeStore } from '../../../src/server/one-time-store.js';
import { openTestStore, type TestStore } from '../../helpers/store.js';

const NOW = 1_800_000_000;
const URL_ = 'https://tenant.example/userinfo';
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.e30.sig';

const es = await generateKeyPair('ES256', { extractable: true });
const other = await generateKeyPair('ES256', { extractable: true });
const publicJwk = await exportJWK(es.publicKey);
const privateJwk = await exportJWK(es.privateKey);
const { calculateJwkThumbprint } = await import('jose');
const jkt = await calculateJwkThumbprint(publicJwk, 'sha256');
const otherJkt = await calculateJwkThumbprint(await exportJWK(other.publicKey), 'sha256');

interface ProofSpec {
  header?: Record<string, unknown>;
  payload?: Record<string, unknown>;
  drop?: string[];
  key?: Parameters<SignJWT['sign']>[0];
  alg?: string;
}

/** A proof made by jose, as a client would, with the parts each case changes. */
async function proof(spec: ProofSpec = {}): Promise<string> {
  const drop = new Set(spec.drop);
  const payload = Object.fromEntries(
    Object.entries({
      jti: randomUUID(),
      htm: 'GET',
      htu: URL_,
      iat: NOW,
      ath: accessTokenHash(TOKEN),
      ...spec.payload,
    }).filter(([name]) => !drop.has(name)),
  );
  const header = { alg: spec.alg ?? 'ES256', typ: 'dpop+jwt', jwk: publicJwk, ...spec.header };
  return new SignJWT(payload).setProtectedHeader(header).sign(spec.key ?? es.privateKey);
}

const expectations: ProofExpectations = { method: 'GET', url: URL_, nowSeconds: NOW, accessToken: TOKEN };

describe('DPoP proof verification (RFC 9449 §4.3)', () => {
  it('checks the signature of every proof, also once its header is known', async () => {
    const good = await proof();
    await verifyDpopProof(good, expectations);
    // The same header (and so the cached key) over a payload signed by another key: refused.
    const forged = await proof({ key: other.privateKey });
    expect(forged.split('.')[0]).toBe(good.split('.')[0]);
    await expect(verifyDpopProof(forged, expectations)).rejects.toThrow(
      'DPoP proof signature or key is invalid',
    );
    // And a good signature over another payload under the known header still passes.
    await expect(verifyDpopProof(await proof(), expectations)).resolves.toMatchObject({ jkt });
  });

  it('accepts a good proof and returns its key thumbprint', async () => {
    const verified = await verifyDpopProof(await proof(), expectations);
    expect(verified.jkt).toBe(jkt);
    expect(verified.iat).toBe(NOW);
  });

  it('accepts an htu that differs only by normalisation (case of host, default port, query)', async () => {
    const p = await proof({ payload: { htu: 'HTTPS://Tenant.Example:443/userinfo' } });
    await expect(verifyDpopProof(p, expectations)).resolves.toMatchObject({ jkt });
    const q = await proof({ payload: { htu: `${URL_}?x=1#f` } });
    await expect(verifyDpopProof(q, expectations)).resolves.toMatchObject({ jkt });
  });

  it('accepts RS256 and Ed25519 keys', async () => {
    for (const alg of ['RS256', 'EdDSA'] as const) {
      const pair = await generateKeyPair(alg, { extractable: true });
      const jwk = await exportJWK(pair.publicKey);
      const p = await proof({ alg, key: pair.privateKey, header: { jwk } });
      await expect(verifyDpopProof(p, expectations)).resolves.toMatchObject({
        jkt: await calculateJwkThumbprint(jwk, 'sha256'),
      });
    }
  });

  const refusals: [string, () => Promise<string>, Partial<ProofExpectations>, string][] = [
    ['a wrong htu', () => proof({ payload: { htu: 'https://tenant.example/api/v2/users' } }), {}, 'htu'],
    ['an htu on another host', () => proof({ payload: { htu: 'https://evil.example/userinfo' } }), {}, 'htu'],
    ['a wrong htm', () => proof({ payload: { htm: 'POST' } }), {}, 'htm'],
    ['a lowercase htm', () => proof({ payload: { htm: 'get' } }), {}, 'htm'],
    ['a missing ath', () => proof({ drop: ['ath'] }), {}, 'ath is missing'],
    [
      'an ath of another token',
      () => proof({ payload: { ath: accessTokenHash('other') } }),
      {},
      'ath does not',
    ],
    ['a stale iat', () => proof({ payload: { iat: NOW - 61 } }), {}, 'iat is outside'],
    ['an iat in the future', () => proof({ payload: { iat: NOW + 61 } }), {}, 'iat is outside'],
    ['a missing iat', () => proof({ drop: ['iat'] }), {}, 'iat is missing'],
    ['a missing jti', () => proof({ drop: ['jti'] }), {}, 'jti is missing'],
    [
      'a symmetric alg (HS256)',
      () => proof({ alg: 'HS256', key: new TextEncoder().encode('a'.repeat(32)) }),
      {},
      'asymmetric',
    ],
    ['alg none', async () => unsigned({ alg: 'none', typ: 'dpop+jwt', jwk: publicJwk }), {}, 'asymmetric'],
    ['a private key in its header', () => proof({ header: { jwk: privateJwk } }), {}, 'private key'],
    [
      'a symmetric key in its header',
      () => proof({ header: { jwk: { kty: 'oct', k: 'AAAA' } satisfies JWK } }),
      {},
      'private key',
    ],
    ['no jwk header', () => proof({ header: { jwk: undefined } }), {}, 'jwk header'],
    ['a wrong typ', () => proof({ header: { typ: 'JWT' } }), {}, 'typ'],
    ['a signature by another key', () => proof({ key: other.privateKey }), {}, 'signature'],
    ['another key than cnf.jkt', () => proof(), { jkt: otherJkt }, 'does not match the key'],
    ['a token that is not a JWS', async () => 'not-a-jwt', {}, 'not a JWS'],
    [
      'a key of another curve than its alg',
      async () => {
        const p384 = await generateKeyPair('ES384', { extractable: true });
        return proof({ header: { jwk: await exportJWK(p384.publicKey) } });
      },
      {},
      'signature or key',
    ],
    [
      'a jwk without its coordinates',
      () => proof({ header: { jwk: { kty: 'EC', crv: 'P-256' } satisfies JWK } }),
      {},
      'signature or key',
    ],
    // The key of an accepted proof is remembered by alg and thumbprint: the same key under another alg is not.
    [
      'a remembered key under another alg',
      async () => {
        const [, payload, signature] = (await proof()).split('.');
        const header = { alg: 'ES384', typ: 'dpop+jwt', jwk: publicJwk };
        return `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${payload ?? ''}.${signature ?? ''}`;
      },
      {},
      'signature or key',
    ],
  ];

  it.each(refusals)('refuses %s (invalid_dpop_proof)', async (_name, make, over, message) => {
    const error = await verifyDpopProof(await make(), { ...expectations, ...over }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DpopProofError);
    expect((error as DpopProofError).reason).toBe('invalid_dpop_proof');
    expect((error as DpopProofError).message).toContain(message);
  });

  it('asks for a nonce (use_dpop_nonce) when the server demands one and the proof lacks a valid one', async () => {
    let now = NOW;
    const nonces = createDpopNonces('s'.repeat(32), () => now);
    const without = await verifyDpopProof(await proof(), { ...expectations, nonce: nonces.accepts }).catch(
      (e: unknown) => e,
    );
    expect(without).toMatchObject({
      reason: 'use_dpop_nonce',
      message: 'Authorization server requires nonce in DPoP proof',
    });
    const wrong = await verifyDpopProof(await proof({ payload: { nonce: 'x'.repeat(32) } }), {
      ...expectations,
      nonce: nonces.accepts,
    }).catch((e: unknown) => e);
    expect(wrong).toMatchObject({ reason: 'use_dpop_nonce' });
    const nonce = nonces.current();
    await expect(
      verifyDpopProof(await proof({ payload: { nonce } }), { ...expectations, nonce: nonces.accepts }),
    ).resolves.toMatchObject({ jkt });
    // Still good in the next window (nodes a little apart agree), not in the one after.
    now += 300;
    expect(nonces.accepts(nonce)).toBe(true);
    now += 300;
    expect(nonces.accepts(nonce)).toBe(false);
    // Another secret (another deployment) hands out other nonces.
    expect(createDpopNonces('t'.repeat(32), () => now).current()).not.toBe(nonces.current());
  });

  it('builds htu from the issuer and the request path, without the query', () => {
    expect(publicUrl('https://tenant.example/', '/userinfo?x=1')).toBe('https://tenant.example/userinfo');
    expect(publicUrl('https://tenant.example/', '/me/v1/authentication-methods')).toBe(
      'https://tenant.example/me/v1/authentication-methods',
    );
  });
});

describe('DPoP proof replay', () => {
  let opened: TestStore;
  beforeAll(async () => {
    opened = await openTestStore({ name: 'sqlite', url: 'sqlite::memory:' });
  });
  afterAll(async () => {
    await opened.close();
  });

  it('refuses a replayed jti', async () => {
    const oneTime = createSqlOneTimeStore(opened.store.oneTimeValues, () => NOW);
    const verified = await verifyDpopProof(await proof(), expectations);
    await markProofUsed((k, v, t) => oneTime.putOnce(k, v, t), verified);
    const again = await markProofUsed((k, v, t) => oneTime.putOnce(k, v, t), verified).catch(
      (e: unknown) => e,
    );
    expect(again).toBeInstanceOf(DpopProofError);
    expect(again).toMatchObject({ reason: 'invalid_dpop_proof', message: 'DPoP proof jti was already used' });
  });
});

function unsigned(header: Record<string, unknown>): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part(header)}.${part({ jti: 'j', htm: 'GET', htu: URL_, iat: NOW })}.`;
}
