import { READER_STRINGS } from '../../templates/reader-strings';
import { InvalidInputError } from '../commons/errors';
import { logger } from '../commons/logger';
import { AddressError } from '../subscribers/address';
import { CAPTCHA_FIELD } from '../subscribers/captcha';
import { checkChoices } from '../subscribers/choices';
import { SignupLimitError } from '../subscribers/guard';
import type { ReadingChoices } from '../subscribers/types';
import {
  checkInboxPage,
  choiceProblemText,
  errorPage,
  errorText,
  HONEYPOT_FIELD,
  type PageContext,
  retryValues,
  signupPage,
} from './pages';
import { nonTextField, readFields, readFieldValues, repeatedField, wantsJson } from './request';
import { captchaPolicy, html, json } from './responses';
import type { HttpResponse, RouteHandler } from './types';

/**
 * The one answer for every accepted signup: new, still pending, already active, limited per
 * mailbox, waiting for the hourly cap, or caught by the honeypot. Identical bytes, so the form
 * cannot be used to learn who subscribes.
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
  // Left out of `fields`, a number or list sent as `frequency` would silently mean every post.
  const notText = nonTextField(request, ['email', 'frequency', 'lang']);
  if (notText !== undefined) {
    const message = READER_STRINGS[page.lang].errors.notText.replace('{field}', notText);
    return json(400, { error: 'fieldNotText', field: notText, message });
  }
  const email = fields.email ?? '';
  const offered = app.settings.topics;
  // Refused rather than guessing which one was meant, as /preferences does.
  const repeated = repeatedField(request, ['frequency', 'lang']);
  if (repeated !== undefined) {
    const message = READER_STRINGS[page.lang].errors.repeated.replace('{field}', repeated);
    if (asJson) return json(400, { error: 'fieldRepeated', field: repeated, message });
    return html(
      400,
      signupPage(page, undefined, app.captcha?.siteKey, { offered, chosen: {}, problem: message, email }),
      captchaPolicy(app.captcha !== undefined),
    );
  }
  const checked = checkChoices({ topics: readFieldValues(request, 'topics'), frequency: fields.frequency }, offered);
  const chosen: ReadingChoices | undefined = 'choices' in checked ? checked.choices : undefined;
  // The form again, with the message next to the field, the typed value kept to fix, the
  // likely correction one click away, and the reader's choices as they made them.
  const formAgain = (problem: { message: string; suggestion?: string; localised?: boolean }) =>
    html(
      400,
      signupPage(page, { ...problem, email }, app.captcha?.siteKey, { offered, chosen }),
      captchaPolicy(app.captcha !== undefined),
    );
  if ('problem' in checked) {
    // Only a hand-made request sends an unknown value; the form's own boxes can only be all unticked.
    const message = choiceProblemText(page, checked.problem, offered);
    if (asJson) return json(400, { error: checked.problem.kind, message, offered: offered.map((topic) => topic.name) });
    return html(
      400,
      signupPage(page, undefined, app.captcha?.siteKey, { offered, chosen: {}, problem: message, email }),
      captchaPolicy(app.captcha !== undefined),
    );
  }
  if (app.captcha !== undefined && !(await app.captcha.verify(fields[CAPTCHA_FIELD] ?? '', request.clientIp))) {
    const message = READER_STRINGS[page.lang].errors.captcha;
    return asJson ? json(400, { error: 'captchaFailed', message }) : formAgain({ message, localised: true });
  }
  try {
    await app.subscriptions.subscribe({ email, source: 'form', ip: request.clientIp, lang: page.lang, ...chosen });
  } catch (error) {
    if (error instanceof SignupLimitError) {
      const now = app.clock.now();
      const retryAfter = Math.max(1, Math.ceil((error.retryAt.getTime() - now.getTime()) / 1000));
      const values = retryValues(page, error.retryAt, now);
      const headers = { 'retry-after': String(retryAfter) };
      if (asJson)
        return json(
          429,
          {
            error: 'tooManySignups',
            message: errorText(page, 'tooManySignups', values).body,
            retryAfter,
            retryAt: error.retryAt.toISOString(),
          },
          headers,
        );
      return html(429, errorPage(page, 'tooManySignups', values), headers);
    }
    if (!(error instanceof InvalidInputError) || error.code !== 'ADDRESS_INVALID') throw error;
    const corrected = error instanceof AddressError ? error.suggestion : undefined;
    if (asJson)
      return json(400, {
        error: 'invalidAddress',
        message: error.message,
        ...(corrected ? { suggestion: corrected } : {}),
      });
    return formAgain({ message: error.message, suggestion: corrected });
  }
  return accepted(asJson, page);
};
