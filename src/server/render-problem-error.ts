import { renderApiError } from './render-api-error.js';

export interface RenderedProblem {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: { type: string; status: number; title: string; detail: string };
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
  '404': { type: 'https://auth0.com/api-errors/A0E-404-0001', title: 'Not Found' },
};

/**
 * My Account API error body `{type, status, title, detail}` (spec 3.7). The error is classified as the
 * Management renderer does (same error classes, same validation wording), then reshaped.
 */
export function renderProblemError(err: unknown): RenderedProblem {
  const { status, headers, body } = renderApiError(err);
  const known = PROBLEM_TYPES[`${status}:${body.errorCode}`] ?? PROBLEM_TYPES[String(status)];
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
    },
  };
}
