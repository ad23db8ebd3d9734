import { InvalidInputError } from '../commons/errors';
import { AddressError } from '../subscribers/address';
import { logger } from '../commons/logger';
import { READER_STRINGS } from '../../templates/reader-strings';
import type { RouteHandler } from './types';
import { checkInboxPage, HONEYPOT_FIELD, signupPage, type PageContext } from './pages';
import { readFields, wantsJson } from './request';
import { html, json } from './responses';
import type { HttpResponse } from './types';

/**
 * The one answer for every accepted signup: new, still pending, already active, rate-limited
 * or caught by the honeypot. Identical bytes, so the form cannot be used to learn who
 * subscribes.
 */
function accepted(asJson: boolean, page: PageContext): HttpResponse {
  if (asJson) return json(200, { status: 'check-inbox', message: READER_STRINGS[page.lang].checkInbox.body });
  return html(200, checkInboxPage(page));
}

/** POST /subscribe, form-encoded (the blog's form) or JSON (a script on the blog). */
export const subscribe: RouteHandler = async (request, app) => {
  const fields = readFields(request);
  const page = app.page(request, fields.lang);
  const asJson = wantsJson(request);
  if ((fields[HONEYPOT_FIELD] ?? '') !== '') {
    logger.info('subscriber.signup.honeypot');
    return accepted(asJson, page);
  }
  const email = fields.email ?? '';
  try {
    await app.subscriptions.subscribe({ email, source: 'form', ip: request.clientIp, lang: page.lang });
  } catch (error) {
    if (!(error instanceof InvalidInputError) || error.code !== 'ADDRESS_INVALID') throw error;
    const corrected = error instanceof AddressError ? error.suggestion : undefined;
    if (asJson) return json(400, { error: 'invalidAddress', message: error.message, ...(corrected ? { suggestion: corrected } : {}) });
    // The form again, with the message next to the field, the typed value kept to fix, and the
    // likely correction one click away.
    return html(400, signupPage(page, { message: error.message, email, suggestion: corrected }));
  }
  return accepted(asJson, page);
};
