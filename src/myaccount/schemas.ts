import { Type } from 'typebox';

/** Factor and method types of spec 3.1. */
export const METHOD_TYPES = [
  'password',
  'passkey',
  'webauthn-platform',
  'webauthn-roaming',
  'totp',
  'phone',
  'email',
  'push-notification',
  'recovery-code',
] as const;

export const NoQuery = Type.Object({}, { additionalProperties: false });

export const MethodListQuery = Type.Object(
  { type: Type.Optional(Type.Union(METHOD_TYPES.map((t) => Type.Literal(t)))) },
  { additionalProperties: false },
);

/** `{authentication_method_id}`, URL-decoded by the router (`passkey%7Cnew` → `passkey|new`). */
export const MethodParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 300 }) });

/** A phone factor's number: E.164, `+` and 8 to 15 digits, the first a country code's (never 0). */
export const E164_PATTERN = '^\\+[1-9][0-9]{7,14}$';

/**
 * Spec 3.3, every type's fields in one object; which of them a type takes (and which it needs) is checked by
 * the service with a clear message.
 */
export const EnrolmentStartBody = Type.Object(
  {
    type: Type.String({ minLength: 1, maxLength: 64 }),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
    phone_number: Type.Optional(Type.String({ pattern: E164_PATTERN })),
    preferred_authentication_method: Type.Optional(Type.Union([Type.Literal('sms'), Type.Literal('voice')])),
    connection: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: '^[a-zA-Z0-9-]+$' })),
    identity_user_id: Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '^\\S+$' })),
    use_exclude_credentials: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** Spec 3.4, passkey: the WebAuthn registration response as `PublicKeyCredential.toJSON()` gives it. */
export const PasskeyVerifyBody = Type.Object(
  {
    auth_session: Type.String({ minLength: 1, maxLength: 512 }),
    authn_response: Type.Object(
      {
        id: Type.String({ minLength: 1, maxLength: 1364 }),
        rawId: Type.String({ minLength: 1, maxLength: 1364 }),
        type: Type.Literal('public-key'),
        authenticatorAttachment: Type.Optional(
          Type.Union([Type.Literal('platform'), Type.Literal('cross-platform')]),
        ),
        // Browsers add authenticatorData, publicKey and publicKeyAlgorithm: read, not required.
        response: Type.Object({
          attestationObject: Type.String({ minLength: 1, maxLength: 2000 }),
          clientDataJSON: Type.String({ minLength: 1, maxLength: 1000 }),
          transports: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 16 })),
        }),
        clientExtensionResults: Type.Optional(Type.Object({})),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

/** Spec 3.4, one-time code methods (totp, phone, email). */
export const OtpVerifyBody = Type.Object(
  {
    auth_session: Type.String({ minLength: 1, maxLength: 512 }),
    otp_code: Type.String({ minLength: 1, maxLength: 64 }),
  },
  { additionalProperties: false },
);

/** Spec 3.4, methods confirmed without input (recovery-code). */
export const SessionVerifyBody = Type.Object(
  { auth_session: Type.String({ minLength: 1, maxLength: 512 }) },
  { additionalProperties: false },
);

/** Spec 3.4, password: the new password (no control characters). */
export const PasswordVerifyBody = Type.Object(
  {
    auth_session: Type.String({ minLength: 1, maxLength: 512 }),
    new_password: Type.String({ minLength: 1, maxLength: 256, pattern: '^[^\\u0000-\\u001f\\u007f]+$' }),
  },
  { additionalProperties: false },
);

/** Spec 3.4: which of the bodies a method takes is checked against its type by the service. */
export const EnrolmentVerifyBody = Type.Union([
  PasskeyVerifyBody,
  OtpVerifyBody,
  PasswordVerifyBody,
  SessionVerifyBody,
]);

/** Spec 3.5. */
export const MethodPatchBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    preferred_authentication_method: Type.Optional(Type.Union([Type.Literal('sms'), Type.Literal('voice')])),
  },
  { additionalProperties: false },
);
