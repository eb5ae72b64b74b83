import type { ErrorObject } from 'ajv';
import { renderApiError } from './render-api-error.js';

/** One entry of `validation_errors` (spec 3.7): what is wrong and where, as a JSON pointer into the body. */
export interface ProblemValidationError {
  readonly detail: string;
  readonly field?: string;
  readonly pointer?: string;
  readonly source?: string;
}

export interface RenderedProblem {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: {
    type: string;
    status: number;
    title: string;
    detail: string;
    validation_errors?: ProblemValidationError[];
  };
}

/**
 * Problem types Auth0's My Account API is seen to send (spec 3.7); other errors use RFC 9457's `about:blank`,
 * whose title is the status text.
 */
const PROBLEM_TYPES: Readonly<Record<string, { type: string; title: string } | undefined>> = {
  '400': { type: 'https://auth0.com/api-errors/A0E-400-0001', title: 'Bad Request' },
  '401': { type: 'https://auth0.com/api-errors/A0E-401-0001', title: 'Unauthorized' },
  '403:insufficient_scope': {
    type: 'https://auth0.com/api-errors/A0E-403-0002',
    title: 'insufficient_scope',
  },
  // Step-up (RFC 9470): no Auth0 type is known for it; the RFC that defines the error names it.
  '403:insufficient_user_authentication': {
    type: 'https://www.rfc-editor.org/rfc/rfc9470',
    title: 'Recent second factor required',
  },
  '404': { type: 'https://auth0.com/api-errors/A0E-404-0001', title: 'Not Found' },
  '409': { type: 'https://auth0.com/api-errors/A0E-409-0001', title: 'Conflict' },
};

/**
 * My Account API error body `{type, status, title, detail}` (spec 3.7). The error is classified as the
 * Management renderer does (same error classes, same validation wording), then reshaped.
 */
export function renderProblemError(err: unknown): RenderedProblem {
  const { status, headers, body } = renderApiError(err);
  const known = PROBLEM_TYPES[`${status}:${body.errorCode}`] ?? PROBLEM_TYPES[String(status)];
  const validation = validationErrorsOf(err);
  return {
    status,
    // Spec §6.7: the OAS says application/json; RFC 9457's type is what problem-aware clients look for, and
    // auth0-spa-js parses the text whatever the type.
    headers: { ...headers, 'content-type': 'application/problem+json; charset=utf-8' },
    body: {
      type: known?.type ?? 'about:blank',
      status,
      title: known?.title ?? body.error,
      detail: body.message,
      ...(validation === undefined ? {} : { validation_errors: validation }),
    },
  };
}

/** The schema errors of a request body or query, one entry each, when the error is a validation failure. */
function validationErrorsOf(err: unknown): ProblemValidationError[] | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { validation, validationContext } = err as {
    validation?: ErrorObject[];
    validationContext?: string;
  };
  if (!Array.isArray(validation) || validation.length === 0) return undefined;
  const source = validationContext === 'querystring' ? 'query' : (validationContext ?? 'body');
  return validation.map((e) => {
    const extra = e.params as { additionalProperty?: unknown; missingProperty?: unknown };
    const named = extra.additionalProperty ?? extra.missingProperty;
    const pointer = typeof named === 'string' ? `${e.instancePath}/${named}` : e.instancePath;
    const field = pointer.replace(/^\//, '').replaceAll('/', '.');
    const detail =
      e.keyword === 'additionalProperties'
        ? 'Additional properties not allowed'
        : e.keyword === 'required'
          ? 'Missing required property'
          : (e.message ?? 'Invalid value');
    return { detail, ...(field === '' ? {} : { field }), pointer: pointer === '' ? '/' : pointer, source };
  });
}
