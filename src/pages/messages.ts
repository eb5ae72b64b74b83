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
  'error.title': 'Something went wrong',
  'error.transaction_expired':
    'Your sign-in took too long or was already completed. Go back to the application and start again.',
  'error.csrf': 'This form could not be verified. Go back to the application and start again.',
  'form_post.title': 'Submit this form',
  'form_post.noscript': 'JavaScript is off: press the button to continue to the application.',
  'form_post.submit': 'Continue',
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
} as const;

export type MessageKey = keyof typeof EN;

export function message(key: MessageKey, vars: Readonly<Record<string, string>> = {}): string {
  return EN[key].replace(/\{(\w+)\}/g, (whole, name: string) => vars[name] ?? whole);
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
    default:
      return reason satisfies never;
  }
}
