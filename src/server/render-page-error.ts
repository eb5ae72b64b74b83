import { AppError } from '../errors/app-error.js';
import { message } from '../pages/messages.js';
import type { PageLook } from '../pages/look.js';
import { renderPage } from '../pages/render.js';
import { renderOAuthError } from './render-oauth-error.js';

export interface PageErrorContext {
  readonly issuer: string;
  readonly look: PageLook | undefined;
}

/**
 * The hosted pages' (`/u/*`) answer to any error: the error page, never JSON, a form or a redirect. A client
 * error keeps its status with a plain sentence; anything else is a 500 that shows nothing of its cause.
 */
export function renderPageError(err: unknown, context: PageErrorContext) {
  const oauth = renderOAuthError(err);
  // The OAuth renderer turns every non-OAuth client error into a 400; a page keeps its own status (404, 405).
  const own = err instanceof AppError ? err.status : oauth.status;
  const status = own >= 500 ? 500 : own;
  const text =
    status === 404
      ? message('error.not_found')
      : status === 500
        ? message('error.unexpected')
        : message('error.bad_request');
  const page = renderPage(
    'error',
    { issuer: context.issuer, title: message('error.title'), message: text, code: undefined },
    context.look,
  );
  return { status, headers: { ...oauth.headers, ...page.headers }, body: page.html };
}
