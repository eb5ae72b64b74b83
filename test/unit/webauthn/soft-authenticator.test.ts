import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type WebAuthnCredential,
} from '@simplewebauthn/server';
import { isoBase64URL, isoUint8Array } from '@simplewebauthn/server/helpers';
import { describe, expect, it } from 'vitest';
import {
  createSoftAuthenticator,
  type AuthenticationTamper,
  type RegistrationTamper,
  type SoftAuthenticator,
  type SoftAuthenticatorOptions,
} from '../../helpers/soft-authenticator.js';

// The soft authenticator is only worth something if @simplewebauthn/server (the verifier the server uses)
// accepts what it builds, and rejects it when one part lies.

const rpID = 'latchkey.test';
const origin = 'https://latchkey.test';
const userID = isoUint8Array.fromUTF8String('auth0|user-1');

async function registrationOptions() {
  return generateRegistrationOptions({
    rpID,
    rpName: 'Latchkey',
    userName: 'ada@example.com',
    userID,
    attestationType: 'none',
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
  });
}

async function enrol(authenticator: SoftAuthenticator, tamper?: RegistrationTamper) {
  const options = await registrationOptions();
  const response = authenticator.register(options, origin, tamper);
  const result = await verifyRegistrationResponse({
    response,
    expectedChallenge: options.challenge,
    expectedOrigin: origin,
    expectedRPID: rpID,
    requireUserVerification: true,
  });
  return { options, response, result };
}

async function enrolled(authenticatorOptions?: SoftAuthenticatorOptions) {
  const authenticator = createSoftAuthenticator(authenticatorOptions);
  const { result } = await enrol(authenticator);
  if (!result.verified) throw new Error('registration not verified');
  const credential: WebAuthnCredential = { ...result.registrationInfo.credential };
  return { authenticator, credential };
}

async function signIn(
  authenticator: SoftAuthenticator,
  credential: WebAuthnCredential,
  tamper?: AuthenticationTamper & { credentialId?: string },
  allowCredentials: { id: string }[] = [],
) {
  const options = await generateAuthenticationOptions({
    rpID,
    allowCredentials,
    userVerification: 'required',
  });
  const response = authenticator.authenticate(options, origin, tamper);
  const result = await verifyAuthenticationResponse({
    response,
    expectedChallenge: options.challenge,
    expectedOrigin: origin,
    expectedRPID: rpID,
    credential,
    requireUserVerification: true,
  });
  return { response, result };
}

describe('soft authenticator: registration', () => {
  it('makes a response @simplewebauthn/server verifies, and keeps the passkey', async () => {
    const authenticator = createSoftAuthenticator();
    const { response, result } = await enrol(authenticator);

    expect(result.verified).toBe(true);
    const info = result.registrationInfo!;
    expect(info.fmt).toBe('none');
    expect(info.credential.id).toBe(response.id);
    expect(info.credential.counter).toBe(0);
    expect(info.credentialDeviceType).toBe('multiDevice');
    expect(info.credentialBackedUp).toBe(true);
    expect(info.userVerified).toBe(true);
    expect(info.aaguid).toBe('00000000-0000-0000-0000-000000000000');
    expect(info.origin).toBe(origin);
    expect(info.rpID).toBe(rpID);
    expect(response).toMatchObject({
      type: 'public-key',
      rawId: response.id,
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: { publicKeyAlgorithm: -7, transports: ['hybrid', 'internal'] },
    });

    expect(authenticator.passkeys).toHaveLength(1);
    const passkey = authenticator.passkeys[0]!;
    expect(passkey).toMatchObject({
      credentialId: response.id,
      userHandle: isoBase64URL.fromBuffer(userID),
      rpId: rpID,
      signCount: 0,
    });
    expect(isoUint8Array.areEqual(passkey.credentialPublicKey, info.credential.publicKey)).toBe(true);
  });

  it.each([
    [{ backupEligible: false, backedUp: false }, 'singleDevice', false],
    [{ backupEligible: true, backedUp: false }, 'multiDevice', false],
    [{ backupEligible: true, backedUp: true }, 'multiDevice', true],
  ] as const)('backup flags %o → %s, backed up %s', async (flags, deviceType, backedUp) => {
    const { result } = await enrol(createSoftAuthenticator(flags));
    expect(result.registrationInfo?.credentialDeviceType).toBe(deviceType);
    expect(result.registrationInfo?.credentialBackedUp).toBe(backedUp);
  });

  it('an authenticator without user verification enrols only where UV is not required', async () => {
    const authenticator = createSoftAuthenticator({ userVerified: false });
    const strict = await enrol(authenticator).catch(() => undefined);
    expect(strict).toBeUndefined();

    const options = await registrationOptions();
    const result = await verifyRegistrationResponse({
      response: authenticator.register(options, origin),
      expectedChallenge: options.challenge,
      expectedOrigin: origin,
      expectedRPID: rpID,
      requireUserVerification: false,
    });
    expect(result).toMatchObject({ verified: true, registrationInfo: { userVerified: false } });
  });

  it('reports the aaguid it was given', async () => {
    const aaguid = 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd';
    const { result } = await enrol(createSoftAuthenticator({ aaguid }));
    expect(result.registrationInfo?.aaguid).toBe(aaguid);
  });

  it.each<[string, RegistrationTamper]>([
    ['another challenge', { challenge: isoBase64URL.fromBuffer(new Uint8Array(32)) }],
    ['another origin', { origin: 'https://evil.test' }],
    ['clientData type webauthn.get', { type: 'webauthn.get' }],
    ['another rp id hash', { rpId: 'evil.test' }],
    ['no user verification', { userVerified: false }],
    ['no user presence', { userPresent: false }],
  ])('fails verification with %s', async (_name, tamper) => {
    const authenticator = createSoftAuthenticator();
    const outcome = enrol(authenticator, tamper).then(({ result }) => result.verified);
    await expect(outcome.catch(() => false)).resolves.toBe(false);
  });

  it('refuses to enrol twice when the credential is excluded (InvalidStateError)', async () => {
    const authenticator = createSoftAuthenticator();
    const { response } = await enrol(authenticator);
    const options = await generateRegistrationOptions({
      rpID,
      rpName: 'Latchkey',
      userName: 'ada@example.com',
      userID,
      excludeCredentials: [{ id: response.id }],
    });
    expect(() => authenticator.register(options, origin)).toThrow(/InvalidStateError/);
  });
});

describe('soft authenticator: key algorithms', () => {
  // Auth0's /passkey/register offers EdDSA, ES256, RS256 in that order.
  const auth0Order = [-8, -7, -257];

  it.each([
    [[-7], -7],
    [[-7, -8], -8],
    [[-257], -257],
    [[-8], -8],
  ] as const)('an authenticator for %o picks %i and signs in with it', async (algorithms, expected) => {
    const authenticator = createSoftAuthenticator({ algorithms });
    const options = await generateRegistrationOptions({
      rpID,
      rpName: 'Latchkey',
      userName: 'ada@example.com',
      userID,
      supportedAlgorithmIDs: auth0Order,
    });
    const response = authenticator.register(options, origin);
    expect(response.response.publicKeyAlgorithm).toBe(expected);
    // Auth0's My Account verify body limits (spec 3.4).
    expect(response.response.attestationObject.length).toBeLessThanOrEqual(2000);
    expect(response.response.clientDataJSON.length).toBeLessThanOrEqual(1000);
    expect(response.id.length).toBeLessThanOrEqual(1364);
    expect(authenticator.passkeys[0]?.algorithm).toBe(expected);
    const registration = await verifyRegistrationResponse({
      response,
      expectedChallenge: options.challenge,
      expectedOrigin: origin,
      expectedRPID: rpID,
      supportedAlgorithmIDs: auth0Order,
    });
    expect(registration.verified).toBe(true);

    const { result } = await signIn(authenticator, registration.registrationInfo!.credential);
    expect(result.verified).toBe(true);
    const corrupt = await signIn(authenticator, registration.registrationInfo!.credential, {
      signature: 'corrupt',
    }).catch(() => ({ result: { verified: false } }));
    expect(corrupt.result.verified).toBe(false);
  });

  it('takes plain JSON shaped like Auth0 /passkey/register and /passkey/challenge responses', async () => {
    const authenticator = createSoftAuthenticator();
    const challenge = isoBase64URL.fromBuffer(new Uint8Array(32).fill(7));
    const response = authenticator.register(
      {
        challenge,
        timeout: 60000,
        rp: { id: rpID, name: rpID },
        user: {
          id: isoBase64URL.fromBuffer(userID),
          name: 'ada@example.com',
          displayName: 'ada@example.com',
        },
        pubKeyCredParams: auth0Order.map((alg) => ({ type: 'public-key' as const, alg })),
        authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
      },
      origin,
    );
    const registration = await verifyRegistrationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: origin,
      expectedRPID: rpID,
      supportedAlgorithmIDs: auth0Order,
    });
    expect(registration.verified).toBe(true);

    const loginChallenge = isoBase64URL.fromBuffer(new Uint8Array(32).fill(9));
    const assertion = authenticator.authenticate(
      { challenge: loginChallenge, timeout: 60000, rpId: rpID, userVerification: 'preferred' },
      origin,
    );
    expect(assertion.response.userHandle).toBe(isoBase64URL.fromBuffer(userID));
    const login = await verifyAuthenticationResponse({
      response: assertion,
      expectedChallenge: loginChallenge,
      expectedOrigin: origin,
      expectedRPID: rpID,
      credential: registration.registrationInfo!.credential,
    });
    expect(login.verified).toBe(true);
  });

  it('refuses options it has no algorithm for (NotSupportedError)', async () => {
    const options = await generateRegistrationOptions({
      rpID,
      rpName: 'Latchkey',
      userName: 'ada@example.com',
      userID,
      supportedAlgorithmIDs: [-257],
    });
    expect(() => createSoftAuthenticator().register(options, origin)).toThrow(/NotSupportedError/);
  });
});

describe('soft authenticator: authentication', () => {
  it('signs in with the discoverable passkey, returns the user handle and bumps the counter', async () => {
    const { authenticator, credential } = await enrolled();
    const first = await signIn(authenticator, credential);

    expect(first.result).toMatchObject({
      verified: true,
      authenticationInfo: { credentialID: credential.id, newCounter: 1, userVerified: true, origin, rpID },
    });
    expect(first.response.response.userHandle).toBe(isoBase64URL.fromBuffer(userID));
    expect(authenticator.passkeys[0]?.signCount).toBe(1);

    const second = await signIn(authenticator, { ...credential, counter: 1 });
    expect(second.result.authenticationInfo.newCounter).toBe(2);
  });

  it('uses the passkey named in allowCredentials or by credentialId', async () => {
    const authenticator = createSoftAuthenticator();
    const one = await enrol(authenticator);
    const two = await enrol(authenticator);
    const credentialOf = (r: typeof one): WebAuthnCredential => r.result.registrationInfo!.credential;

    const named = await signIn(authenticator, credentialOf(one), { credentialId: one.response.id });
    expect(named.response.id).toBe(one.response.id);
    const allowed = await signIn(authenticator, credentialOf(one), {}, [{ id: one.response.id }]);
    expect(allowed.response.id).toBe(one.response.id);
    const latest = await signIn(authenticator, credentialOf(two));
    expect(latest.response.id).toBe(two.response.id);
  });

  it('has no passkey for another rp id (NotAllowedError)', async () => {
    const { authenticator } = await enrolled();
    const options = await generateAuthenticationOptions({ rpID: 'other.test' });
    expect(() => authenticator.authenticate(options, 'https://other.test')).toThrow(/NotAllowedError/);
  });

  it.each<[string, AuthenticationTamper]>([
    ['another challenge', { challenge: isoBase64URL.fromBuffer(new Uint8Array(32)) }],
    ['another origin', { origin: 'https://evil.test' }],
    ['clientData type webauthn.create', { type: 'webauthn.create' }],
    ['another rp id hash', { rpId: 'evil.test' }],
    ['no user verification', { userVerified: false }],
    ['no user presence', { userPresent: false }],
    ['a corrupt signature', { signature: 'corrupt' }],
    ['a counter that does not increase', { signCount: 5 }],
    ['a counter that goes back', { signCount: 4 }],
  ])('fails verification with %s', async (_name, tamper) => {
    const { authenticator, credential } = await enrolled();
    // The relying party last saw counter 5; the authenticator reports 6 unless the lie is about the counter.
    const stored = { ...credential, counter: 5 };
    const outcome = signIn(authenticator, stored, { signCount: 6, ...tamper }).then(
      ({ result }) => result.verified,
    );
    await expect(outcome.catch(() => false)).resolves.toBe(false);
    // The same ceremony without the lie passes: the failure is the tampering's.
    await expect(signIn(authenticator, stored, { signCount: 6 })).resolves.toMatchObject({
      result: { verified: true },
    });
  });
});
