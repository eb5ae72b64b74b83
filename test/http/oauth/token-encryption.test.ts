import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import {
  calculateJwkThumbprint,
  compactDecrypt,
  createLocalJWKSet,
  decodeProtectedHeader,
  exportJWK,
  jwtVerify,
  type JSONWebKeySet,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SigningKey } from '../../../src/domain/signing-key.js';
import { generateSigningKey } from '../../../src/keys/generate.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { api, clientCredentials } from '../../helpers/http.js';

const invalidBody = (message: string) => ({
  statusCode: 400,
  error: 'Bad Request',
  message,
  errorCode: 'invalid_body',
});

// Issue 9: token_encryption (Auth0's JWE access tokens) encrypts, or is refused on write; never stored and ignored.
describe.each(testBackends())('JWE access tokens (token_encryption) on $name', (backend) => {
  let t: TestApp;
  let make: Factories;
  let token: string;
  let recipient: SigningKey;
  let thumbprint: string;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    make = createFactories(t.deps);
    token = await t.managementToken();
    // An RSA key with a self-signed certificate: Auth0's dashboard asks for a certificate.
    recipient = await generateSigningKey({
      tenantId: 'x',
      issuer: 'https://rs.example/',
      state: 'next',
      now: new Date(),
    });
    thumbprint = await calculateJwkThumbprint(await exportJWK(createPublicKey(recipient.cert)), 'sha256');
  });
  afterAll(async () => {
    await t.close();
  });

  const createApi = (identifier: string, tokenEncryption: unknown) =>
    api(t.app, {
      method: 'POST',
      url: '/api/v2/resource-servers',
      token,
      body: { identifier, scopes: [{ value: 'read:things' }], token_encryption: tokenEncryption },
    });
  const encryption = (key: Record<string, unknown>) => ({
    format: 'compact-nested-jwe',
    encryption_key: key,
  });
  let n = 0;
  const identifier = () => `https://jwe-${String((n += 1))}.example.com/`;
  const verifyNested = async (jwe: string, audience: string) => {
    const { plaintext, protectedHeader } = await compactDecrypt(
      jwe,
      createPrivateKey(recipient.privateKeyPem),
    );
    const jwks = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json<JSONWebKeySet>();
    const { payload } = await jwtVerify(new TextDecoder().decode(plaintext), createLocalJWKSet(jwks), {
      issuer: TEST_ISSUER,
      audience,
    });
    return { protectedHeader, payload };
  };

  it('stores a checked key and shows it as Auth0 does: its thumbprint, never the PEM', async () => {
    const id = identifier();
    const res = await createApi(
      id,
      encryption({ name: 'jwe key', alg: 'RSA-OAEP-256', kid: 'rs-key-1', pem: recipient.cert }),
    );
    expect(res.statusCode).toBe(201);
    const shown = {
      format: 'compact-nested-jwe',
      encryption_key: {
        name: 'jwe key',
        alg: 'RSA-OAEP-256',
        kid: 'rs-key-1',
        thumbprint_sha256: thumbprint,
      },
    };
    expect(res.json<{ token_encryption: unknown }>().token_encryption).toEqual(shown);
    const read = await api(t.app, {
      method: 'GET',
      url: `/api/v2/resource-servers/${encodeURIComponent(id)}?fields=token_encryption`,
      token,
    });
    expect(read.json()).toEqual({ token_encryption: shown });
  });

  it('encrypts the signed access token for the API: compact JWE, A256GCM, the key’s alg and kid', async () => {
    const rs = await createApi(
      identifier(),
      encryption({ name: 'jwe key', alg: 'RSA-OAEP-256', kid: 'rs-key-1', pem: recipient.cert }),
    );
    const { identifier: audience } = rs.json<{ identifier: string }>();
    const client = await make.client();
    await make.grant({ clientId: client.clientId, audience, scope: ['read:things'] });
    const res = await clientCredentials(t.app, client, audience);
    expect(res.statusCode).toBe(200);
    const body = res.json<{ access_token: string }>();
    expect(body).toEqual({
      access_token: expect.any(String),
      scope: 'read:things',
      expires_in: 86_400,
      token_type: 'Bearer',
    });
    expect(body.access_token.split('.')).toHaveLength(5);
    expect(decodeProtectedHeader(body.access_token)).toEqual({
      alg: 'RSA-OAEP-256',
      enc: 'A256GCM',
      cty: 'JWT',
      kid: 'rs-key-1',
    });
    const { payload } = await verifyNested(body.access_token, audience);
    expect(payload).toMatchObject({ sub: `${client.clientId}@clients`, aud: audience, scope: 'read:things' });
  });

  it('encrypts user tokens too, with RSA-OAEP-512 and no kid when none was given; null turns it off', async () => {
    const rs = await createApi(
      identifier(),
      encryption({
        alg: 'RSA-OAEP-512',
        pem: createPublicKey(recipient.cert).export({ type: 'spki', format: 'pem' }),
      }),
    );
    const { identifier: audience, id } = rs.json<{ identifier: string; id: string }>();
    const app = await make.client({ grantTypes: ['password'] });
    await make.enableConnection(app.clientId);
    const user = await make.user();
    const login = () =>
      t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        payload: {
          grant_type: 'password',
          client_id: app.clientId,
          client_secret: app.clientSecret,
          username: user.email ?? '',
          password: 'Pass-word-123',
          audience,
          scope: 'read:things',
        },
      });
    const jwe = (await login()).json<{ access_token: string }>().access_token;
    expect(decodeProtectedHeader(jwe)).toEqual({ alg: 'RSA-OAEP-512', enc: 'A256GCM', cty: 'JWT' });
    expect((await verifyNested(jwe, audience)).payload).toMatchObject({ sub: user.userId });

    const off = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/resource-servers/${id}`,
      token,
      body: { token_encryption: null },
    });
    expect(off.json()).toMatchObject({ token_encryption: null });
    const plain = (await login()).json<{ access_token: string }>().access_token;
    expect(plain.split('.')).toHaveLength(3);
  });

  it.each([
    [
      'a private key',
      () => recipient.privateKeyPem,
      'Payload validation error: token_encryption.encryption_key.pem must be a public key or a certificate.',
    ],
    [
      'an EC key',
      () =>
        generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }),
      'Payload validation error: token_encryption.encryption_key.pem must be an RSA key.',
    ],
    [
      'a 1024-bit RSA key',
      () =>
        generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }),
      'Payload validation error: token_encryption.encryption_key.pem must be an RSA key of at least 2048 bits.',
    ],
    [
      'text that is no key',
      () => 'any key at all',
      'Payload validation error: token_encryption.encryption_key.pem is not a PEM-encoded public key or certificate.',
    ],
  ])('refuses %s with 400 invalid_body', async (_name, pem, message) => {
    const id = identifier();
    const res = await createApi(id, encryption({ alg: 'RSA-OAEP-256', pem: pem() }));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(invalidBody(message));
    const get = await api(t.app, {
      method: 'GET',
      url: `/api/v2/resource-servers/${encodeURIComponent(id)}`,
      token,
    });
    expect(get.statusCode).toBe(404);
  });

  it.each([
    [
      'another algorithm',
      encryption({ alg: 'RSA1_5', pem: 'x' }),
      "'must be equal to constant' on property token_encryption.encryption_key.alg.",
    ],
    [
      'another format',
      { format: 'jwe', encryption_key: { alg: 'RSA-OAEP-256', pem: 'x' } },
      "'must be equal to constant' on property token_encryption.format.",
    ],
    [
      'an unknown key field',
      encryption({ alg: 'RSA-OAEP-256', pem: 'x', use: 'enc' }),
      "'Additional properties not allowed: use' on property token_encryption.encryption_key.",
    ],
    [
      'no PEM',
      encryption({ alg: 'RSA-OAEP-256' }),
      "'Missing required property: pem' on property token_encryption.encryption_key.",
    ],
  ])('refuses %s with 400 invalid_body', async (_name, body, problem) => {
    const res = await createApi(identifier(), body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(invalidBody(`Payload validation error: ${problem}`));
  });

  it('refuses to issue rather than send readable tokens when a stored key cannot encrypt (stored before checks)', async () => {
    const rs = await make.api({ extra: { token_encryption: encryption({ anything: 'goes' }) } });
    const client = await make.client();
    await make.grant({ clientId: client.clientId, audience: rs.identifier, scope: ['read:things'] });
    const res = await clientCredentials(t.app, client, rs.identifier);
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({
      error: 'server_error',
      error_description:
        'The API requires encrypted access tokens but its token_encryption key is not usable; set it again.',
    });
  });
});
