import { InvalidInputError } from '../commons/errors';
import type { RouteHandler } from './types';
import { alreadyConfirmedPage, confirmedPage, confirmInvalidPage } from './pages';
import { html } from './responses';

/** GET /confirm?token=: the link in the confirmation email. */
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
