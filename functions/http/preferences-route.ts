import { type ReaderLanguage, readerLanguage } from '../../templates/reader-strings';
import { topicKey } from '../commons/config';
import { InvalidInputError } from '../commons/errors';
import { FREQUENCIES } from '../subscribers/choices';
import { PreferencesError, readPreferencesForm, tickedTopics } from '../subscribers/preferences';
import { sampleCopyOf } from '../subscribers/tokens';
import type { Frequency, Subscriber } from '../subscribers/types';
import {
  type PreferencesView,
  preferencesPage,
  preferencesSamplePage,
  preferencesUnavailablePage,
  unsubscribedPage,
} from './pages';
import { mediaType } from './request';
import { html } from './responses';
import type { HttpRequest, HttpResponse, RouteContext, RouteHandler } from './types';

/** What the page shows for the reader the link is for, in their language: their choices, or why there are none. */
function answer(
  request: HttpRequest,
  app: RouteContext,
  subscriber: Subscriber | undefined,
  status: number,
  changes: Partial<PreferencesView> = {},
): HttpResponse {
  const lang = changes.lang ?? readerLanguage(subscriber?.lang);
  const page = app.page(request, lang);
  if (subscriber === undefined) return html(410, preferencesUnavailablePage(page, 'gone'));
  if (subscriber.state === 'unsubscribed') return html(410, preferencesUnavailablePage(page, 'unsubscribed'));
  if (subscriber.state === 'bounced' || subscriber.state === 'complained')
    return html(410, preferencesUnavailablePage(page, 'stopped'));
  const offered = app.settings.topics;
  const view: PreferencesView = {
    offered,
    ticked: tickedTopics(subscriber.topics, offered),
    frequency: subscriber.frequency ?? 'post',
    lang: page.lang,
    pending: subscriber.state === 'pending',
    ...changes,
  };
  return html(status, preferencesPage(page, view));
}

/** The reader the link is for, or the 400 page of a damaged, forged or other link. */
async function readerOf(request: HttpRequest, app: RouteContext): Promise<Subscriber | undefined | HttpResponse> {
  try {
    return await app.subscriptions.preferencesOf(request.query.get('token') ?? '');
  } catch (error) {
    if (error instanceof InvalidInputError) return html(400, preferencesUnavailablePage(app.page(request), 'invalid'));
    throw error;
  }
}

const isResponse = (value: Subscriber | HttpResponse | undefined): value is HttpResponse =>
  value !== undefined && 'status' in value;

/** GET /preferences?token=: the reader's topics, frequency and language in a form; opening it changes nothing. */
export const showPreferencesPage: RouteHandler = async (request, app) => {
  const sample = sampleCopyOf(request.query.get('token'));
  if (sample !== undefined) return html(200, preferencesSamplePage(app.page(request), sample));
  const reader = await readerOf(request, app);
  return isResponse(reader) ? reader : answer(request, app, reader, 200);
};

/**
 * POST /preferences?token=: the page's forms. `action=unsubscribe` leaves the list like the
 * one-click link; anything else saves the choices, each checked against what the page offers.
 * A refused value shows the form again with what to fix, and saves nothing.
 */
export const savePreferences: RouteHandler = async (request, app) => {
  const sample = sampleCopyOf(request.query.get('token'));
  if (sample !== undefined) return html(200, preferencesSamplePage(app.page(request), sample));
  const type = mediaType(request);
  if (type !== '' && type !== 'application/x-www-form-urlencoded')
    return app.fail(request, 415, 'unsupportedPreferencesType');
  const fields = new URLSearchParams(request.body.toString('utf8'));
  const reader = await readerOf(request, app);
  if (isResponse(reader)) return reader;
  const token = request.query.get('token') ?? '';

  // An erased reader has nothing to leave: the same 410 page as opening the link, not "You are
  // unsubscribed". A reader still on file may press it twice (a double click, a reload).
  if (reader !== undefined && fields.get('action') === 'unsubscribe') {
    await app.subscriptions.unsubscribe(token, 'preferences');
    return html(200, unsubscribedPage(app.page(request, reader.lang)));
  }
  if (reader === undefined || (reader.state !== 'active' && reader.state !== 'pending'))
    return answer(request, app, reader, 410);

  let chosen: ReturnType<typeof readPreferencesForm>;
  try {
    chosen = readPreferencesForm(fields, app.settings.topics);
  } catch (error) {
    if (!(error instanceof PreferencesError)) throw error;
    return answer(request, app, reader, 400, submitted(fields, app, error));
  }
  if (!(await app.subscriptions.savePreferences(token, chosen))) {
    // Left or bounced between the read and the write: say so, as a fresh read shows it.
    return answer(request, app, await app.subscriptions.preferencesOf(token), 410);
  }
  return answer(request, app, { ...reader, ...chosen }, 200, { saved: true });
};

/** The refused form as it was sent, so the reader fixes one thing instead of starting over. */
function submitted(fields: URLSearchParams, app: RouteContext, error: PreferencesError): Partial<PreferencesView> {
  const keys = new Set(fields.getAll('topics').map(topicKey));
  const frequency = fields.get('frequency') as Frequency;
  const lang: ReaderLanguage | undefined = error.field === 'lang' ? undefined : readerLanguage(fields.get('lang'));
  return {
    ticked: new Set(app.settings.topics.filter((topic) => keys.has(topicKey(topic.name))).map((topic) => topic.name)),
    ...(FREQUENCIES.includes(frequency) ? { frequency } : {}),
    ...(lang === undefined ? {} : { lang }),
    refused: error.field,
  };
}
