import { InvalidInputError } from '../commons/errors';
import { alreadyConfirmedPage, confirmAskPage, confirmedPage, confirmInvalidPage, type PageContext } from './pages';
import { html } from './responses';
import type { RouteContext, RouteHandler } from './types';

const PAGES: Record<'pending' | 'already-confirmed' | 'confirmed', (page: PageContext) => string> = {
  pending: confirmAskPage,
  'already-confirmed': alreadyConfirmedPage,
  confirmed: confirmedPage,
};

/** A route that acts on the token in the link and shows the page for the outcome. */
function withToken(act: (app: RouteContext, token: string) => Promise<keyof typeof PAGES>): RouteHandler {
  return async (request, app) => {
    const page = app.page(request);
    let outcome: keyof typeof PAGES;
    try {
      outcome = await act(app, request.query.get('token') ?? '');
    } catch (error) {
      if (error instanceof InvalidInputError) return html(400, confirmInvalidPage(page));
      throw error;
    }
    return html(200, PAGES[outcome](page));
  };
}

/**
 * GET /confirm?token=: the link in the confirmation email shows a page with one button and
 * changes nothing, so a mail scanner that opens every link confirms nobody.
 */
export const showConfirmPage = withToken((app, token) => app.subscriptions.checkConfirmToken(token));

/** POST /confirm?token=: the page's button; the only request that activates a subscriber. */
export const confirm = withToken((app, token) => app.subscriptions.confirm(token));
