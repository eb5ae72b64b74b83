import type { FastifyError } from 'fastify';
import { AppError } from '../errors/app-error.js';
import type { PasswordRejection } from '../users/password-policy.js';

/**
 * An error of Auth0's database-connection endpoints (/dbconnections/*), which answer
 * `{name, code, description, statusCode}` rather than OAuth's `{error, error_description}`.
 */
export class DbConnectionError extends AppError {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly description: unknown,
    readonly errorName = status === 429 ? 'TooManyRequestsError' : 'BadRequestError',
    readonly extra: Readonly<Record<string, unknown>> = {},
    /** For a refused password: what the policy said, so a page can word it. */
    readonly rejection?: PasswordRejection,
  ) {
    super(typeof description === 'string' ? description : code);
  }
}

export const badRequest = (code: string, description: string) =>
  new DbConnectionError(400, code, description);

const PASSWORD_CODES: Record<PasswordRejection['name'], string> = {
  PasswordStrengthError: 'invalid_password',
  PasswordDictionaryError: 'password_dictionary_error',
  PasswordNoUserInfoError: 'password_no_user_info_error',
  PasswordHistoryError: 'password_history_error',
};

/** Auth0's sign-up answer for a refused password: the strength error lists the rules the password breaks. */
export function passwordError(rejection: PasswordRejection): DbConnectionError {
  if (rejection.name !== 'PasswordStrengthError') {
    return new DbConnectionError(
      400,
      PASSWORD_CODES[rejection.name],
      rejection.message,
      rejection.name,
      { message: rejection.message },
      rejection,
    );
  }
  const rules = rejection.rules.map((rule) => ({ message: capitalise(rule), verified: false }));
  return new DbConnectionError(
    400,
    'invalid_password',
    { rules, verified: false },
    rejection.name,
    { message: rejection.message, policy: rules.map((r) => `* ${r.message}`).join('\n') },
    rejection,
  );
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The body and status of any error on /dbconnections; unexpected errors say nothing of their cause. */
export function renderDbConnectionError(err: unknown): { status: number; body: Record<string, unknown> } {
  if (err instanceof DbConnectionError) {
    return {
      status: err.status,
      body: {
        name: err.errorName,
        ...err.extra,
        code: err.code,
        description: err.description,
        statusCode: err.status,
      },
    };
  }
  const fastifyError = err as Partial<FastifyError>;
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const description = status === 413 ? 'Request body is too large.' : 'Invalid request body.';
    return {
      status,
      body: { name: 'BadRequestError', code: 'invalid_body', description, statusCode: status },
    };
  }
  return {
    status: 500,
    body: {
      name: 'InternalServerError',
      code: 'server_error',
      description: 'Internal server error.',
      statusCode: 500,
    },
  };
}
