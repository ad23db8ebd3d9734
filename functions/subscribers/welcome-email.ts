import { fillSite, READER_STRINGS, type ReaderLanguage, readerLanguage } from '../../templates/reader-strings';
import { WELCOME_EMAIL_HTML } from '../../templates/welcome.generated';
import { type Settings, type Topic, topicKey } from '../commons/config';
import { escapeHtml } from '../commons/html';
import { listIdOf } from '../mail/headers';
import { type CompiledMessage, compileMessage, personalise, valuesForLanguage } from '../mail/message';
import { PREFERENCES_URL_PLACEHOLDER, type RecipientLinks, UNSUBSCRIBE_URL_PLACEHOLDER } from '../render/types';
import type { Subscriber } from './types';

/**
 * The welcome the blog's `_newsletter/welcome.md` gives: rendered like a post and compiled
 * once, when a push changes the file (or the local stack starts), then stored, so confirming
 * never calls GitHub and never loads the renderer.
 */
export interface StoredWelcome {
  subject: string;
  lang: string;
  /** The compiled message; its placeholders are the reader's links. */
  message: CompiledMessage;
  /** Where it was read: `<repository>@<commit>`, or the file for the local stack. */
  source: string;
}

/** Where the welcome email finds the blog's own welcome; undefined: the default one. */
export interface WelcomeSource {
  current(): Promise<StoredWelcome | undefined>;
}

/**
 * Values for every placeholder of a welcome: the footer's words in the reader's language (a
 * stored welcome carries them in every language), then the reader's own links; like the
 * delivery worker, a placeholder neither names is filled with nothing.
 */
function valuesFor(message: CompiledMessage, subscriber: Subscriber, links: RecipientLinks): Record<string, string> {
  const known = { ...valuesForLanguage(message.languageValues, subscriber.lang), ...links };
  return Object.fromEntries(message.placeholders.map((placeholder) => [placeholder, known[placeholder] ?? '']));
}

/** The welcome email of one reader: the blog's own when it has one, else the default. */
export class WelcomeEmails {
  constructor(
    private readonly settings: Settings,
    private readonly source?: WelcomeSource,
  ) {}

  async build(subscriber: Subscriber, links: RecipientLinks, date: Date): Promise<Buffer> {
    const message = (await this.source?.current())?.message ?? compileDefaultWelcome(subscriber, this.settings);
    return personalise(message, { to: subscriber.email, values: valuesFor(message, subscriber, links), date });
  }
}

/** The reader's topics by their label in `language`, as the editor offers them. */
function topicLabels(chosen: readonly string[], offered: readonly Topic[], language: ReaderLanguage): string[] {
  const byKey = new Map(offered.map((topic) => [topicKey(topic.name), topic]));
  return chosen.map((name) => {
    const topic = byKey.get(topicKey(name));
    if (topic === undefined) return name;
    return language === 'zh-CN' ? topic.zh : topic.en;
  });
}

/**
 * The default welcome: what to expect (every post or the weekly digest, the topics chosen) and
 * how to change it ("Manage your subscription") or leave, in the reader's language. Compiled per reader: it carries their
 * choices and name, which need not be ASCII (only ASCII values are spliced into a message).
 */
function compileDefaultWelcome(subscriber: Subscriber, settings: Settings): CompiledMessage {
  const language = readerLanguage(subscriber.lang) ?? readerLanguage(settings.language) ?? 'en';
  const strings = READER_STRINGS[language].welcome;
  const site = settings.siteTitle;
  const siteUrl = `${settings.siteUrl.replace(/\/+$/, '')}/`;
  const paragraphs = [
    ...(subscriber.name === undefined
      ? []
      : [READER_STRINGS[language].email.greeting.replace('{name}', () => subscriber.name!)]),
    fillSite(strings.intro, site),
    subscriber.frequency === 'digest' ? strings.digest : strings.everyPost,
  ];
  if (settings.topics.length > 0) {
    const chosen = subscriber.topics ?? [];
    paragraphs.push(
      chosen.length === 0
        ? strings.allTopics
        : strings.topics.replace('{topics}', () =>
            topicLabels(chosen, settings.topics, language).join(strings.topicSeparator),
          ),
    );
  }
  paragraphs.push(strings.manage, strings.leave);

  const slots: Record<string, string> = {
    lang: READER_STRINGS[language].htmlLang,
    subject: fillSite(strings.subject, site),
    site,
    siteUrl,
    heading: fillSite(strings.heading, site),
    visit: fillSite(strings.visit, site),
    why: fillSite(strings.why, site),
    postalAddress: settings.postalAddress,
    unsubscribeUrl: UNSUBSCRIBE_URL_PLACEHOLDER,
    unsubscribeLink: strings.unsubscribeLink,
  };
  const markup: Record<string, string> = {
    paragraphs: paragraphs
      .map((paragraph, index) => `<p style="margin:${index === 0 ? 0 : 12}px 0 0">${escapeHtml(paragraph)}</p>`)
      .join(''),
    manageLink: `<a href="${PREFERENCES_URL_PLACEHOLDER}" style="color:#4a4a55;text-decoration:underline">${escapeHtml(strings.manageLink)}</a> &#183; `,
  };
  const html = WELCOME_EMAIL_HTML.replace(/\{\{\{(\w+)\}\}\}|\{\{(\w+)\}\}/g, (slot, raw?: string, text?: string) => {
    if (raw !== undefined) return markup[raw] ?? slot;
    // The placeholder is ASCII with no character HTML escapes: it is found again when compiled.
    return slots[text!] === undefined ? slot : escapeHtml(slots[text!]!);
  });
  const text = [
    slots.heading,
    '',
    ...paragraphs.flatMap((paragraph) => [paragraph, '']),
    `${slots.visit}: ${siteUrl}`,
    '',
    '-- ',
    slots.why,
    settings.postalAddress,
    `${strings.manageLink}: ${PREFERENCES_URL_PLACEHOLDER}`,
    `${strings.unsubscribeLink}: ${UNSUBSCRIBE_URL_PLACEHOLDER}`,
    '',
  ].join('\n');
  return compileMessage(
    { subject: slots.subject!, html, text, lang: slots.lang! },
    { fromAddress: settings.fromAddress, fromName: settings.fromName, replyTo: settings.replyTo },
    {
      listId: listIdOf(settings),
      listUnsubscribe: { urlPlaceholder: UNSUBSCRIBE_URL_PLACEHOLDER },
      placeholders: [UNSUBSCRIBE_URL_PLACEHOLDER, PREFERENCES_URL_PLACEHOLDER],
    },
  );
}
