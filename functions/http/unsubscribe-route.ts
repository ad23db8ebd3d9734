import { InvalidInputError } from '../commons/errors';
import { POST_REFERENCE_PARAMETER, readPostReference } from '../stats/post-reference';
import { sampleCopyOf } from '../subscribers/tokens';
import { unsubscribeAskPage, unsubscribedPage, unsubscribeInvalidPage, unsubscribeSamplePage } from './pages';
import { html, text } from './responses';
import type { HttpRequest, RouteHandler } from './types';

/**
 * RFC 8058 one-click: the mailbox provider posts `List-Unsubscribe=One-Click`, form-encoded or
 * as multipart/form-data. Only the shape of the answer depends on it; any POST with a valid
 * token unsubscribes, so a body the check does not recognise still does the right thing.
 */
function isOneClick(request: HttpRequest): boolean {
  const body = request.body.toString('latin1');
  return /List-Unsubscribe=One-Click/i.test(body) || /name="List-Unsubscribe"\r?\n\r?\nOne-Click/i.test(body);
}

/**
 * GET /unsubscribe?token=: a page with a button; following the link alone changes nothing.
 * A reader who already left sees that they have, instead of a button that does nothing.
 */
export const showUnsubscribePage: RouteHandler = async (request, app) => {
  const page = app.page(request);
  const sample = sampleCopyOf(request.query.get('token'));
  if (sample !== undefined) return html(200, unsubscribeSamplePage(page, sample));
  let subscribed: boolean;
  try {
    ({ subscribed } = await app.subscriptions.checkUnsubscribeToken(request.query.get('token') ?? ''));
  } catch (error) {
    if (error instanceof InvalidInputError) return html(400, unsubscribeInvalidPage(page));
    throw error;
  }
  return html(200, subscribed ? unsubscribeAskPage(page) : unsubscribedPage(page));
};

/** POST /unsubscribe?token=: the page's button, or a mailbox provider's one-click request. */
export const unsubscribe: RouteHandler = async (request, app) => {
  const oneClick = isOneClick(request);
  const sample = sampleCopyOf(request.query.get('token'));
  if (sample !== undefined) {
    return oneClick
      ? text(200, 'This was a test copy or preview: there is no subscription to end, and nothing changed.\n')
      : html(200, unsubscribeSamplePage(app.page(request), sample));
  }
  try {
    await app.subscriptions.unsubscribe(
      request.query.get('token') ?? '',
      'unsubscribe',
      readPostReference(request.query.get(POST_REFERENCE_PARAMETER)),
    );
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    return oneClick
      ? text(400, 'This unsubscribe link is invalid.\n')
      : html(400, unsubscribeInvalidPage(app.page(request)));
  }
  return oneClick ? text(200, 'Unsubscribed.\n') : html(200, unsubscribedPage(app.page(request)));
};
