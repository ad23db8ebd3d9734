import { CONFIRM_EMAIL_HTML } from '../../templates/confirm.generated';
import { fillSite, READER_STRINGS, type ReaderLanguage, readerLanguage } from '../../templates/reader-strings';
import type { Settings } from '../commons/config';
import { escapeHtml } from '../commons/html';
import { logger, maskAddress } from '../commons/logger';
import type { Mailer } from '../mail/mailer';
import { type CompiledMessage, compileMessage, personalise } from '../mail/message';
import { classifySesError } from '../mail/ses-errors';

const CONFIRM_URL_PLACEHOLDER = '%%PUSHLETTER_CONFIRM_URL%%';
const RETRY_DELAY_MS = 100;

/**
 * The double opt-in email. The MJML template was rendered to HTML at build time
 * (templates/build-confirm.ts); here its `{{slots}}` get the language's strings, the message is
 * compiled once per language, and each confirmation only splices in its link.
 */
export class ConfirmationMailer {
  private readonly compiled = new Map<ReaderLanguage, CompiledMessage>();

  constructor(
    private readonly mailer: Mailer,
    private readonly settings: Settings,
  ) {}

  async sendConfirmation(to: string, confirmUrl: string, lang: string, name?: string): Promise<void> {
    const language = this.language(lang);
    // A greeting by name is compiled for this one email: names need not be ASCII, and only
    // ASCII values are spliced into a compiled message.
    const message = name === undefined ? this.message(language) : compileConfirmation(language, this.settings, name);
    const data = this.personalised(message, to, confirmUrl, language);
    let messageId: string;
    try {
      messageId = await this.mailer.sendRaw({ to, data });
    } catch (error) {
      // The reader is waiting for the page: one quick retry hides a refused connection or
      // throttling. Only when SES provably did not take the message: after a timeout it may
      // have, and a second send would give the reader two emails. A rejection is final.
      const { kind } = classifySesError(error);
      if (kind !== 'retry') throw error;
      logger.warn('subscriber.confirmation.retry', { to: maskAddress(to), error: error as Error });
      await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
      messageId = await this.mailer.sendRaw({ to, data });
    }
    logger.debug('subscriber.confirmation.sent', { to: maskAddress(to), lang: language, messageId });
  }

  /** The reminder of a pending signup, ready to send (follow-ups.ts sends it, once). */
  reminder(to: string, confirmUrl: string, lang: string, name?: string): Buffer {
    const language = this.language(lang);
    return this.personalised(compileConfirmation(language, this.settings, name, 'reminder'), to, confirmUrl, language);
  }

  private language(lang: string): ReaderLanguage {
    return readerLanguage(lang) ?? readerLanguage(this.settings.language) ?? 'en';
  }

  private personalised(message: CompiledMessage, to: string, confirmUrl: string, language: ReaderLanguage): Buffer {
    // The confirmed page should speak the language the reader signed up in.
    const url = new URL(confirmUrl);
    if (!url.searchParams.has('lang')) url.searchParams.set('lang', language);
    return personalise(message, { to, values: { [CONFIRM_URL_PLACEHOLDER]: url.toString() } });
  }

  private message(language: ReaderLanguage): CompiledMessage {
    let message = this.compiled.get(language);
    if (message === undefined) {
      message = compileConfirmation(language, this.settings);
      this.compiled.set(language, message);
    }
    return message;
  }
}

/**
 * The confirmation email, or (`reminder`) the one reminder a pending signup gets a day later:
 * the same layout and button, its own subject and words.
 */
export function compileConfirmation(
  language: ReaderLanguage,
  settings: Settings,
  name?: string,
  kind: 'confirmation' | 'reminder' = 'confirmation',
): CompiledMessage {
  const strings = {
    ...READER_STRINGS[language].email,
    ...(kind === 'reminder' ? READER_STRINGS[language].reminder : {}),
  };
  const site = settings.siteTitle;
  const greeting = name === undefined ? undefined : strings.greeting.replace('{name}', () => name);
  const slots: Record<string, string> = {
    lang: READER_STRINGS[language].htmlLang,
    subject: fillSite(strings.subject, site),
    site,
    heading: fillSite(strings.heading, site),
    body: fillSite(strings.body, site),
    button: fillSite(strings.button, site),
    next: strings.next,
    expiry: strings.expiry,
    fallback: strings.fallback,
    ignore: strings.ignore,
    postalAddress: settings.postalAddress,
  };
  const html = CONFIRM_EMAIL_HTML.replace(/\{\{(\w+)\}\}/g, (slot, key: string) => {
    if (key === 'confirmUrl') return CONFIRM_URL_PLACEHOLDER;
    if (key === 'greeting') return greeting === undefined ? '' : `${escapeHtml(greeting)}<br />`;
    return slots[key] === undefined ? slot : escapeHtml(slots[key]!);
  });
  const text = [
    slots.heading,
    '',
    ...(greeting === undefined ? [] : [greeting]),
    slots.body,
    slots.next,
    '',
    CONFIRM_URL_PLACEHOLDER,
    '',
    strings.expiry,
    strings.ignore,
    '',
    '-- ',
    site,
    settings.postalAddress,
    '',
  ].join('\n');
  return compileMessage(
    { subject: slots.subject!, html, text, lang: slots.lang! },
    { fromAddress: settings.fromAddress, fromName: settings.fromName, replyTo: settings.replyTo },
    { placeholders: [CONFIRM_URL_PLACEHOLDER] },
  );
}
