import { fillSite, READER_STRINGS, type ReaderLanguage, readerLanguage } from '../../templates/reader-strings';
import { WELCOME_EMAIL_HTML } from '../../templates/welcome.generated';
import { type Settings, type Topic, topicKey } from '../commons/config';
import { escapeHtml } from '../commons/html';
import { listIdOf } from '../mail/headers';
import { type CompiledMessage, compileMessage, personalise } from '../mail/message';
import { UNSUBSCRIBE_URL_PLACEHOLDER } from '../render/types';
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

/** The reader's own links an email carries. */
export interface ReaderLinks {
  unsubscribe: string;
  /** "Manage your subscription", once the preferences page exists (see MANAGE_URL_PLACEHOLDER). */
  preferences?: string;
}

/**
 * PREFERENCES, the one spot to fill when that part is on main: this is the placeholder its
 * post template and compileIssueMessage use for the "Manage your subscription" link
 * (PREFERENCES_URL_PLACEHOLDER in render/types.ts, same value: import it instead), and
 * SubscriptionService.preferencesUrl must return the link. Until then the default welcome
 * leaves the link out, and a stored welcome has no such placeholder.
 */
const MANAGE_URL_PLACEHOLDER = '%%PUSHLETTER_PREFERENCES_URL%%';

/** Values for every placeholder of a welcome: the reader's links. */
function linkValues(message: CompiledMessage, links: ReaderLinks): Record<string, string> {
  const values: Record<string, string> = { [UNSUBSCRIBE_URL_PLACEHOLDER]: links.unsubscribe };
  if (links.preferences !== undefined) values[MANAGE_URL_PLACEHOLDER] = links.preferences;
  // A placeholder without a value fails in personalise, naming it: better than a dead link.
  return Object.fromEntries(
    Object.entries(values).filter(([placeholder]) => message.placeholders.includes(placeholder)),
  );
}

/** The welcome email of one reader: the blog's own when it has one, else the default. */
export class WelcomeEmails {
  constructor(
    private readonly settings: Settings,
    private readonly source?: WelcomeSource,
  ) {}

  async build(subscriber: Subscriber, links: ReaderLinks, date: Date): Promise<Buffer> {
    const message =
      (await this.source?.current())?.message ??
      compileDefaultWelcome(subscriber, this.settings, links.preferences !== undefined);
    return personalise(message, { to: subscriber.email, values: linkValues(message, links), date });
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
 * how to change it or leave, in the reader's language. Compiled per reader: it carries their
 * choices and name, which need not be ASCII (only ASCII values are spliced into a message).
 */
function compileDefaultWelcome(subscriber: Subscriber, settings: Settings, withManageLink: boolean) {
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
  if (withManageLink) paragraphs.push(strings.manage);
  paragraphs.push(strings.leave);

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
    manageLink: withManageLink
      ? `<a href="${MANAGE_URL_PLACEHOLDER}" style="color:#4a4a55;text-decoration:underline">${escapeHtml(strings.manageLink)}</a> &#183; `
      : '',
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
    ...(withManageLink ? [`${strings.manageLink}: ${MANAGE_URL_PLACEHOLDER}`] : []),
    `${strings.unsubscribeLink}: ${UNSUBSCRIBE_URL_PLACEHOLDER}`,
    '',
  ].join('\n');
  return compileMessage(
    { subject: slots.subject!, html, text, lang: slots.lang! },
    { fromAddress: settings.fromAddress, fromName: settings.fromName, replyTo: settings.replyTo },
    {
      listId: listIdOf(settings),
      listUnsubscribe: { urlPlaceholder: UNSUBSCRIBE_URL_PLACEHOLDER },
      placeholders: withManageLink
        ? [UNSUBSCRIBE_URL_PLACEHOLDER, MANAGE_URL_PLACEHOLDER]
        : [UNSUBSCRIBE_URL_PLACEHOLDER],
    },
  );
}
