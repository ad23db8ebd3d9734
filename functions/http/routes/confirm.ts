import { InvalidInputError } from '../../commons/errors';
import type { RouteHandler } from '../app';
import { alreadyConfirmedPage, confirmAskPage, confirmedPage, confirmInvalidPage } from '../pages';
import { html } from '../responses';

/**
 * GET /confirm?token=: the link in the confirmation email shows a page with one button and
 * changes nothing, so a mail scanner that opens every link confirms nobody.
 */
export const showConfirmPage: RouteHandler = async (request, app) => {
  const page = app.page(request);
  let state: Awaited<ReturnType<typeof app.subscriptions.checkConfirmToken>>;
  try {
    state = await app.subscriptions.checkConfirmToken(request.query.get('token') ?? '');
  } catch (error) {
    if (error instanceof InvalidInputError) return html(400, confirmInvalidPage(page));
    throw error;
  }
  return html(200, state === 'already-confirmed' ? alreadyConfirmedPage(page) : confirmAskPage(page));
};

/** POST /confirm?token=: the page's button; the only request that activates a subscriber. */
export const confirm: RouteHandler = async (request, app) => {
  const page = app.page(request);
  let outcome: Awaited<ReturnType<typeof app.subscriptions.confirm>>;
  try {
    outcome = await app.subscriptions.confirm(request.query.get('token') ?? '');
  } catch (error) {
    if (error instanceof InvalidInputError) return html(400, confirmInvalidPage(page));
    throw error;
  }
  return html(200, outcome === 'already-confirmed' ? alreadyConfirmedPage(page) : confirmedPage(page));
};
