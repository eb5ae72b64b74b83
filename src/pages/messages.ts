import type { LoginFailure } from '../users/authenticate.js';

/**
 * Every sentence the hosted pages show, in one catalogue so it can be translated later. `{name}` placeholders
 * are filled by `message`; the templates escape the result.
 */
const EN = {
  'login.title': 'Welcome',
  'login.subtitle': 'Log in to {tenant} to continue to {client}.',
  'login.username': 'Email address or username',
  'login.password': 'Password',
  'login.submit': 'Continue',
  'login.missing_fields': 'Enter your email address or username and your password.',
  'login.wrong_credentials': 'Wrong email or password.',
  'login.blocked': 'Your account has been blocked. Contact the administrator.',
  'login.too_many_attempts':
    'Your account has been blocked after multiple consecutive login attempts. Wait for the block to expire or ask an administrator to lift it.',
  'login.suspicious_ip':
    'We have detected suspicious login behavior and further attempts will be blocked. Please contact the administrator.',
  'login.connection_unavailable': 'This application cannot sign you in with this connection.',
  'login.not_configured': 'Sign-in is not configured for this application. Contact the administrator.',
  'consent.title': 'Authorize {client}',
  'consent.subtitle': '{client} is asking for access to your {tenant} account.',
  'consent.signed_in_as': 'Signed in as {user}',
  'consent.list_label': '{client} will be able to:',
  'consent.api_label': 'On {api}:',
  'consent.identity_only': '{client} will only learn who you are: no other access is asked for.',
  'consent.note': 'You can withdraw this access at any time.',
  'consent.accept': 'Accept',
  'consent.decline': 'Decline',
  'consent.choose': 'Choose Accept or Decline.',
  'consent.scope.profile': 'See your profile: name, nickname and picture',
  'consent.scope.email': 'See your email address',
  'consent.scope.address': 'See your postal address',
  'consent.scope.phone': 'See your phone number',
  'login.forgot': 'Forgot your password?',
  'login.no_account': "Don't have an account?",
  'login.signup': 'Sign up',
  'login.or': 'or',
  'login.passkey': 'Continue with a passkey',
  'login.passkey_failed': 'Your passkey could not sign you in. Try again, or log in with your password.',
  'login.passkey_unavailable': 'Passkeys are not available for this application. Log in with your password.',
  'login.passkey_cancelled': 'No passkey was used. Try again, or log in with your password.',
  'passkey_offer.title': 'Create a passkey',
  'passkey_offer.subtitle':
    'Log in to {tenant} faster next time: your device unlocks a passkey with your fingerprint, face or screen lock, with no password to type.',
  'passkey_offer.create': 'Create a passkey',
  'passkey_offer.skip': 'Not now',
  'passkey_offer.failed': 'The passkey could not be created. Try again, or continue without one.',
  'passkey_offer.cancelled': 'No passkey was created. Try again, or choose Not now.',
  'mfa.title': 'Verify your identity',
  'mfa.subtitle': '{tenant} asks for a second step to continue to {client}.',
  'mfa.totp_prompt': 'Enter the 6-digit code your authenticator app shows.',
  'mfa.totp_label': 'Code from your authenticator app',
  'mfa.oob_prompt': 'We sent a 6-digit code to {address}. It is valid for 5 minutes.',
  'mfa.oob_label': 'Code we sent you',
  'mfa.send_prompt': 'We will send a 6-digit code to {address}.',
  'mfa.send': 'Send a code',
  'mfa.resend': 'Send a new code',
  'mfa.recovery_prompt': 'Enter the recovery code you saved when you set up your second factor.',
  'mfa.recovery_label': 'Recovery code',
  'mfa.submit': 'Continue',
  'mfa.other': 'Other ways to verify',
  'mfa.use_totp': 'Use your authenticator app',
  'mfa.use_email': 'Email a code to {address}',
  'mfa.use_phone': 'Text a code to {address}',
  'mfa.use_recovery': 'Use a recovery code',
  'mfa.passkey_prompt':
    'Use the passkey you saved for this account: your device asks for your fingerprint, face or screen lock.',
  'mfa.passkey': 'Use a passkey',
  'mfa.passkey_refused': 'The passkey could not be verified. Try again, or choose another way.',
  'mfa.passkey_cancelled': 'No passkey was used. Try again, or choose another way.',
  'mfa.missing_code': 'Enter the code.',
  'mfa.wrong_code': 'That code is not right. Check it and try again.',
  'mfa.expired_code': 'That code has expired or was tried too often. Send a new code.',
  'mfa.send_first': 'Send a code first, then enter it here.',
  'mfa.not_sent': 'We could not send the code. Try again in a moment, or choose another way.',
  'mfa.throttled': 'Too many wrong codes. Wait a few minutes before you try again.',
  'mfa.send_throttled': 'Too many codes were sent or tried. Wait a few minutes before you ask for another.',
  'mfa.unavailable': 'This way to verify is no longer available. Choose another one.',
  'mfa.recovery_title': 'Save your new recovery code',
  'mfa.recovery_text':
    'Your recovery code was used up. Here is a new one: it is shown only this once. Keep it somewhere safe; you will need it if you lose your device.',
  'mfa.recovery_new_label': 'Your new recovery code',
  'mfa.verified_title': 'You are verified',
  'mfa.verified_text': 'Continue to the application.',
  'mfa.continue': 'Continue',
  'mfa_enrol.title': 'Secure your account',
  'mfa_enrol.subtitle':
    '{tenant} asks for a second step at sign-in. Set up an authenticator app to continue to {client}.',
  'mfa_enrol.scan':
    'Scan this QR code with your authenticator app (for example Google Authenticator, 1Password or Authy).',
  'mfa_enrol.qr_label': 'QR code to add {tenant} to your authenticator app',
  'mfa_enrol.manual': 'Cannot scan it? Enter this key in the app instead:',
  'mfa_enrol.code_label': 'Code from your authenticator app',
  'mfa_enrol.submit': 'Continue',
  'mfa_enrol.recovery_text':
    'If you lose your device, this recovery code lets you sign in. It is shown only this once: keep it somewhere safe.',
  'signup.title': 'Create your account',
  'signup.subtitle': 'Sign up to {tenant} to continue to {client}.',
  'signup.email': 'Email address',
  'signup.password': 'Password',
  'signup.password_rules': 'Your password must follow these rules:',
  'signup.submit': 'Continue',
  'signup.have_account': 'Already have an account?',
  'signup.login': 'Log in',
  'signup.missing_fields': 'Enter your email address and a password.',
  'signup.invalid_email': 'Enter a valid email address.',
  'signup.weak_password': 'Choose a stronger password. This one breaks these rules:',
  'signup.common_password': 'This password is too common. Choose another one.',
  'signup.personal_password': 'Your password must not contain your name or email address.',
  'signup.failed':
    'We could not sign you up with these details. If you already have an account, log in or reset your password.',
  'signup.disabled': 'Sign-up is not available for this application. Log in with an existing account.',
  'reset_request.title': 'Forgot your password?',
  'reset_request.subtitle':
    'Enter the email address of your {tenant} account and we will send you a link to reset your password.',
  'reset_request.email': 'Email address',
  'reset_request.submit': 'Send reset link',
  'reset_request.back': 'Back to sign in',
  'reset_request.missing_email': 'Enter your email address.',
  'reset_request.sent_title': 'Check your email',
  'reset_request.sent':
    'If {email} belongs to an account, we have sent it a link to reset your password. The link is valid for a limited time.',
  'reset_request.unavailable': 'Password reset is not available for this application.',
  'error.title': 'Something went wrong',
  'error.transaction_expired':
    'Your sign-in took too long or was already completed. Go back to the application and start again.',
  'error.not_found': 'This page does not exist. Check the address, or go back to the application.',
  'error.bad_request': 'This request could not be handled. Go back to the application and start again.',
  'error.unexpected': 'An unexpected error happened on our side. Try again in a moment.',
  'error.csrf': 'This form could not be verified. Go back to the application and start again.',
  'form_post.title': 'Submit this form',
  'form_post.noscript': 'JavaScript is off: press the button to continue to the application.',
  'form_post.submit': 'Continue',
  'web_message.title': 'Returning to the application',
  'web_message.text': 'You can close this window if the application does not continue on its own.',
  'logout.signed_out_title': 'You are signed out',
  'logout.signed_out_text': 'You have signed out of {tenant}. You can close this window.',
  'logout.confirm_title': 'Sign out?',
  'logout.confirm_text': 'Do you want to sign out of {tenant}? You will have to sign in again to continue.',
  'logout.confirm_submit': 'Sign out',
  'logout.error_title': 'Sign-out could not be completed',
  'logout.return_to_not_allowed':
    'The address to return to after signing out is not on the list of allowed logout URLs, so the sign-out was stopped. Contact the application owner.',
  'logout.unknown_client': 'Unknown client: the application asking to sign you out is not registered here.',
  'logout.invalid_id_token_hint':
    'The sign-out request could not be verified: its id_token_hint is invalid, expired beyond use or was issued by another server.',
  'logout.client_mismatch':
    'The sign-out request is inconsistent: client_id does not match the id_token_hint.',
  'logout.session_mismatch':
    'The sign-out request does not match the session in this browser: the logout_hint or the token does not name it.',
  'logout.bad_parameter': 'The sign-out request has a repeated, empty or oversized parameter.',
  'logout.confirm_expired':
    'This sign-out form has expired or was already used. Go back to the application and try again.',
  'reset.title': 'Reset your password',
  'reset.subtitle': 'Choose a new password for {email}.',
  'reset.rules_label': 'Password rules',
  'reset.password': 'New password',
  'reset.password_confirmation': 'Confirm new password',
  'reset.submit': 'Reset password',
  'reset.form_expired': 'The form has expired. Enter your new password again.',
  'reset.missing_password': 'Enter a new password.',
  'reset.passwords_differ': 'The passwords do not match.',
  'reset.rejected': '{reason}.',
  'reset.done_title': 'Password changed',
  'reset.done': 'Your password has been changed. You can now sign in with it.',
  // Auth0's `message` query parameter on result_url: applications may compare it, so keep it word for word.
  'reset.result_message': 'Your password has been changed successfully.',
  'verify.done_title': 'Email verified',
  'verify.done': 'Your email address has been verified. You can close this page.',
  'verify.result_message': 'Your email was verified. You can continue using the application.',
  'account.link_expired_title': 'Link expired',
  'account.link_expired': 'This link has expired or has already been used. Ask for a new one.',
  'account.too_many_attempts_title': 'Too many attempts',
  'account.too_many_attempts': 'Too many attempts from your network. Try again later.',
  'rules.must': 'It must {rule}.',
  'rules.must_be': 'It must be {rule}.',
  'rules.dictionary': 'It must not be a commonly used password.',
  'rules.personal_info': 'It must not contain your name or email address.',
  'rules.history': 'It must differ from your last {count} passwords.',
  'layout.skip': 'Skip to content',
  'layout.version': 'Version {version}',
  'layout.tagline': "Self-hosted identity, in Auth0's wire formats",
  'home.status': 'Running',
  'home.title': 'Identity server',
  'home.lede':
    "A self-hosted identity platform that speaks Auth0's wire formats: point an application or an Auth0 SDK at this server and it works unchanged.",
  'home.issuer': 'Issuer',
  'home.documents': 'Published documents',
  'home.endpoints': 'Endpoints',
  'home.openid_configuration': 'OpenID configuration',
  'home.openid_configuration_text':
    'The endpoints, grant types, client authentication methods and algorithms served here.',
  'home.jwks': 'JSON Web Key Set',
  'home.jwks_text': 'The public keys that verify the tokens this server signs.',
  'home.openapi': 'OpenAPI document',
  'home.openapi_text': 'Every operation of the Authentication API and the Management API, with its schemas.',
  'home.management_api': 'Management API',
  'home.endpoint.authorization': 'Authorization',
  'home.endpoint.token': 'Token',
  'home.endpoint.userinfo': 'Userinfo',
  'home.endpoint.revocation': 'Revocation',
  'home.endpoint.end_session': 'End session',
} as const;

export type MessageKey = keyof typeof EN;

/**
 * Each message cut once at its placeholders: text at even indexes, placeholder names at odd ones. A page asks for
 * a dozen messages; a regular-expression replace on each was a tenth of the login page's CPU.
 */
const PARTS = new Map<string, readonly string[]>(
  Object.entries(EN).map(([key, text]: [string, string]) => [key, text.split(/\{(\w+)\}/)]),
);

export function message(key: MessageKey, vars: Readonly<Record<string, string>> = {}): string {
  const parts = PARTS.get(key) as readonly string[];
  if (parts.length === 1) return parts[0] as string;
  let text = '';
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    // A placeholder without a value stays as written, braces and all.
    text += i % 2 === 0 ? part : (vars[part] ?? `{${part}}`);
  }
  return text;
}

/**
 * A message cut around one placeholder, for a view that marks the value up (`<strong>{email}</strong>`):
 * the text before it and after it, each escaped by the template.
 */
export function messageAround(key: MessageKey, name: string): { before: string; after: string } {
  const text: string = EN[key];
  const at = text.indexOf(`{${name}}`);
  if (at < 0) return { before: text, after: '' };
  return { before: text.slice(0, at), after: text.slice(at + name.length + 2) };
}

/** How the login page words each sign-in failure (the same facts as the token endpoint's answers). */
export function loginFailureMessage(reason: LoginFailure): MessageKey {
  switch (reason) {
    case 'unknown_user':
    case 'wrong_password':
    case 'password_unusable':
      return 'login.wrong_credentials';
    case 'too_many_attempts':
    case 'identifier_throttled':
      return 'login.too_many_attempts';
    case 'address_throttled':
      return 'login.suspicious_ip';
    case 'blocked':
      return 'login.blocked';
    case 'unknown_connection':
    case 'connection_not_enabled':
      return 'login.connection_unavailable';
    case 'no_default_connection':
      return 'login.not_configured';
    case 'passkey_refused':
      return 'login.passkey_failed';
    default:
      return reason satisfies never;
  }
}
