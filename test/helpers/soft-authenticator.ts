import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { cose, isoBase64URL, isoCBOR, isoUint8Array } from '@simplewebauthn/server/helpers';

/**
 * A software WebAuthn authenticator for tests: it plays the browser (clientDataJSON, origin) and the
 * authenticator (authenticator data, attestation 'none', ES256 / EdDSA / RS256 signatures) over plain JSON,
 * so HTTP tests can enrol and sign in with passkeys without a browser. CBOR/COSE come from
 * @simplewebauthn/server's helpers and keys from node:crypto, so a response it builds is what a real
 * platform authenticator sends.
 */

/** A passkey held by the soft authenticator. Everything a test needs to seed or inspect a credential. */
export interface SoftPasskey {
  /** base64url credential id (also `id` / `rawId` of responses). */
  credentialId: string;
  /** base64url user handle: the `user.id` of the creation options. */
  userHandle: string;
  rpId: string;
  /** The counter the authenticator last reported; bumped by every `authenticate`. */
  signCount: number;
  /** COSE algorithm of the key: -7 (ES256, the default), -8 (EdDSA) or -257 (RS256). */
  algorithm: SoftAlgorithm;
  /** COSE_Key (EC2 P-256 for -7) as stored by a relying party. */
  credentialPublicKey: Uint8Array<ArrayBuffer>;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** Ways to make a ceremony lie, to prove the server checks each part. */
export interface RegistrationTamper {
  /** clientData.challenge instead of the options' challenge. */
  challenge?: string;
  /** clientData.origin instead of the page origin. */
  origin?: string;
  /** clientData.type, e.g. 'webauthn.get' on a registration. */
  type?: string;
  /** Hash this rp id into the authenticator data instead of the real one. */
  rpId?: string;
  /** Force the UV flag for this ceremony. */
  userVerified?: boolean;
  /** Force the UP flag for this ceremony. */
  userPresent?: boolean;
}

export interface AuthenticationTamper extends RegistrationTamper {
  /** 'corrupt': a well-formed signature over other bytes. */
  signature?: 'corrupt';
  /** Report this counter instead of the next one (not stored), e.g. one that does not increase. */
  signCount?: number;
}

export interface SoftAuthenticatorOptions {
  /** UUID form; attestation 'none' authenticators often send zeros, the default. */
  aaguid?: string;
  /** BE flag (default true: a synced passkey). */
  backupEligible?: boolean;
  /** BS flag (default true). */
  backedUp?: boolean;
  /** UV flag (default true: the platform asked for a PIN or biometric). */
  userVerified?: boolean;
  /**
   * COSE algorithms the authenticator can make keys for (default [-7], like platform authenticators). It
   * takes the first of the options' pubKeyCredParams it supports, as authenticators do.
   */
  algorithms?: readonly SoftAlgorithm[];
}

/** ES256, EdDSA (Ed25519), RS256. */
export type SoftAlgorithm = -7 | -8 | -257;

export interface SoftAuthenticator {
  readonly passkeys: readonly SoftPasskey[];
  register(
    options: PublicKeyCredentialCreationOptionsJSON,
    origin: string,
    tamper?: RegistrationTamper,
  ): RegistrationResponseJSON;
  authenticate(
    options: PublicKeyCredentialRequestOptionsJSON,
    origin: string,
    tamper?: AuthenticationTamper & { credentialId?: string },
  ): AuthenticationResponseJSON;
}

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_BE = 0x08;
const FLAG_BS = 0x10;
const FLAG_AT = 0x40;

const ES256 = -7;
const EDDSA = -8;
const RS256 = -257;

const ZERO_AAGUID = '00000000-0000-0000-0000-000000000000';

export function createSoftAuthenticator(options: SoftAuthenticatorOptions = {}): SoftAuthenticator {
  const aaguid = isoUint8Array.fromHex((options.aaguid ?? ZERO_AAGUID).replaceAll('-', ''));
  if (aaguid.length !== 16) throw new Error(`aaguid must be a UUID, got ${options.aaguid ?? ''}`);
  const backupEligible = options.backupEligible ?? true;
  const backedUp = options.backedUp ?? true;
  const userVerified = options.userVerified ?? true;
  const algorithms: readonly SoftAlgorithm[] = options.algorithms ?? [ES256];
  const passkeys: SoftPasskey[] = [];

  function flagsFor(tamper: RegistrationTamper, attested: boolean): number {
    let flags = 0;
    if (tamper.userPresent ?? true) flags |= FLAG_UP;
    if (tamper.userVerified ?? userVerified) flags |= FLAG_UV;
    if (backupEligible) flags |= FLAG_BE;
    if (backedUp) flags |= FLAG_BS;
    if (attested) flags |= FLAG_AT;
    return flags;
  }

  return {
    get passkeys() {
      return passkeys;
    },

    register(creation, origin, tamper = {}) {
      const rpId = creation.rp.id ?? new URL(origin).hostname;
      // An empty pubKeyCredParams means ES256 and RS256 (WebAuthn's default).
      const requested =
        creation.pubKeyCredParams.length > 0
          ? creation.pubKeyCredParams.map((param) => param.alg)
          : [ES256, RS256];
      const algorithm = requested.find((alg): alg is SoftAlgorithm => algorithms.some((own) => own === alg));
      if (algorithm === undefined) {
        throw new Error(
          `NotSupportedError: the soft authenticator makes keys for ${algorithms.join(', ')} only`,
        );
      }
      // A browser refuses to enrol an authenticator that already holds one of the excluded credentials.
      const excluded = new Set((creation.excludeCredentials ?? []).map((descriptor) => descriptor.id));
      if (passkeys.some((passkey) => passkey.rpId === rpId && excluded.has(passkey.credentialId))) {
        throw new Error('InvalidStateError: the authenticator already holds an excluded credential');
      }

      const { privateKey, publicKey } = keyPairFor(algorithm);
      const credentialIdBytes = new Uint8Array(randomBytes(32));
      const credentialId = isoBase64URL.fromBuffer(credentialIdBytes);
      const credentialPublicKey = coseKeyOf(algorithm, publicKey);

      const credentialIdLength = new Uint8Array(2);
      new DataView(credentialIdLength.buffer).setUint16(0, credentialIdBytes.length);
      const authenticatorData = isoUint8Array.concat([
        sha256(tamper.rpId ?? rpId),
        Uint8Array.of(flagsFor(tamper, true)),
        counterBytes(0),
        aaguid,
        credentialIdLength,
        credentialIdBytes,
        credentialPublicKey,
      ]);
      const attestationObject = isoCBOR.encode(
        new Map<string, string | Map<string, never> | Uint8Array>([
          ['fmt', 'none'],
          ['attStmt', new Map<string, never>()],
          ['authData', authenticatorData],
        ]),
      );
      const clientDataJSON = clientData(
        tamper.type ?? 'webauthn.create',
        tamper.challenge ?? creation.challenge,
        tamper.origin ?? origin,
      );

      passkeys.push({
        credentialId,
        userHandle: creation.user.id,
        rpId,
        signCount: 0,
        algorithm,
        credentialPublicKey,
        privateKey,
        publicKey,
      });

      return {
        id: credentialId,
        rawId: credentialId,
        type: 'public-key',
        response: {
          clientDataJSON: isoBase64URL.fromBuffer(clientDataJSON),
          attestationObject: isoBase64URL.fromBuffer(attestationObject),
          authenticatorData: isoBase64URL.fromBuffer(authenticatorData),
          transports: ['hybrid', 'internal'],
          publicKeyAlgorithm: algorithm,
          publicKey: isoBase64URL.fromBuffer(
            new Uint8Array(publicKey.export({ format: 'der', type: 'spki' })),
          ),
        },
        clientExtensionResults: {},
        authenticatorAttachment: 'platform',
      };
    },

    authenticate(request, origin, tamper = {}) {
      const rpId = request.rpId ?? new URL(origin).hostname;
      const passkey = choosePasskey(passkeys, rpId, request, tamper.credentialId);

      const signCount = tamper.signCount ?? passkey.signCount + 1;
      if (tamper.signCount === undefined) passkey.signCount = signCount;
      const authenticatorData = isoUint8Array.concat([
        sha256(tamper.rpId ?? rpId),
        Uint8Array.of(flagsFor(tamper, false)),
        counterBytes(signCount),
      ]);
      const clientDataJSON = clientData(
        tamper.type ?? 'webauthn.get',
        tamper.challenge ?? request.challenge,
        tamper.origin ?? origin,
      );
      const signed = isoUint8Array.concat([authenticatorData, sha256(clientDataJSON)]);
      // A corrupt signature is still valid DER, over other bytes: the server must verify, not just parse.
      const signature = sign(
        passkey.algorithm === EDDSA ? null : 'sha256',
        tamper.signature === 'corrupt' ? isoUint8Array.concat([signed, Uint8Array.of(0)]) : signed,
        passkey.privateKey,
      );

      return {
        id: passkey.credentialId,
        rawId: passkey.credentialId,
        type: 'public-key',
        response: {
          clientDataJSON: isoBase64URL.fromBuffer(clientDataJSON),
          authenticatorData: isoBase64URL.fromBuffer(authenticatorData),
          signature: isoBase64URL.fromBuffer(new Uint8Array(signature)),
          userHandle: passkey.userHandle,
        },
        clientExtensionResults: {},
        authenticatorAttachment: 'platform',
      };
    },
  };
}

/**
 * The passkey a browser would use: one named by the test, else one of allowCredentials, else (discoverable
 * credentials, empty allowCredentials) the most recently created passkey for the rp id.
 */
function choosePasskey(
  passkeys: readonly SoftPasskey[],
  rpId: string,
  request: PublicKeyCredentialRequestOptionsJSON,
  credentialId: string | undefined,
): SoftPasskey {
  const allowed = new Set((request.allowCredentials ?? []).map((descriptor) => descriptor.id));
  const candidates = passkeys.filter(
    (passkey) =>
      passkey.rpId === rpId &&
      (allowed.size === 0 || allowed.has(passkey.credentialId)) &&
      (credentialId === undefined || passkey.credentialId === credentialId),
  );
  const chosen = candidates.at(-1);
  if (chosen === undefined) {
    throw new Error(
      `NotAllowedError: no passkey for ${rpId}${credentialId ? ` with id ${credentialId}` : ''}`,
    );
  }
  return chosen;
}

function clientData(type: string, challenge: string, origin: string): Uint8Array<ArrayBuffer> {
  return isoUint8Array.fromUTF8String(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
}

function keyPairFor(algorithm: SoftAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (algorithm) {
    case ES256:
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case EDDSA:
      return generateKeyPairSync('ed25519');
    case RS256:
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
  }
}

function coseKeyOf(algorithm: SoftAlgorithm, publicKey: KeyObject): Uint8Array<ArrayBuffer> {
  const jwk = publicKey.export({ format: 'jwk' });
  const part = (value: string | undefined): Uint8Array<ArrayBuffer> => {
    if (value === undefined) throw new Error(`public key without the parts of ${algorithm}`);
    return isoBase64URL.toBuffer(value);
  };
  // CTAP2 canonical order: kty, alg, then the key type's parameters.
  const key = new Map<number, number | Uint8Array>();
  switch (algorithm) {
    case ES256:
      key.set(cose.COSEKEYS.kty, cose.COSEKTY.EC2);
      key.set(cose.COSEKEYS.alg, algorithm);
      key.set(cose.COSEKEYS.crv, cose.COSECRV.P256);
      key.set(cose.COSEKEYS.x, part(jwk.x));
      key.set(cose.COSEKEYS.y, part(jwk.y));
      break;
    case EDDSA:
      key.set(cose.COSEKEYS.kty, cose.COSEKTY.OKP);
      key.set(cose.COSEKEYS.alg, algorithm);
      key.set(cose.COSEKEYS.crv, cose.COSECRV.ED25519);
      key.set(cose.COSEKEYS.x, part(jwk.x));
      break;
    case RS256:
      key.set(cose.COSEKEYS.kty, cose.COSEKTY.RSA);
      key.set(cose.COSEKEYS.alg, algorithm);
      key.set(cose.COSEKEYS.n, part(jwk.n));
      key.set(cose.COSEKEYS.e, part(jwk.e));
      break;
  }
  return isoCBOR.encode(key);
}

function counterBytes(count: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, count);
  return bytes;
}

function sha256(data: string | Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(createHash('sha256').update(data).digest());
}
