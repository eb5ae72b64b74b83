import { authorizationCode } from './authorization-code.js';
import { clientCredentials } from './client-credentials.js';
import { mfaOob, mfaOtp, mfaRecoveryCode } from './mfa.js';
import { password, passwordRealm } from './password.js';
import { refreshToken } from './refresh-token.js';
import { webauthn } from './webauthn.js';
import type { GrantHandler } from './types.js';

/** Every grant type the token endpoint dispatches to, by `grant_type`. */
export const GRANTS: ReadonlyMap<string, GrantHandler> = new Map(
  [
    authorizationCode,
    clientCredentials,
    password,
    passwordRealm,
    refreshToken,
    webauthn,
    mfaOtp,
    mfaOob,
    mfaRecoveryCode,
  ].map((g) => [g.grantType, g]),
);
