import { randomBytes, randomUUID } from 'node:crypto';
import { InvalidInputError, PushletterError } from '../commons/errors';
import { escapeHtml } from '../commons/html';
import { base64Length, canonicalLineBreaks, SplicedBase64Body } from './base64-body';
import { checkAddress, checkHeaderValue, domainOf, formatDate, mailboxHeader, unstructuredHeader } from './headers';
import { encodeQuotedPrintable } from './quoted-printable';

/**
 * The MIME message of a post, built once and personalised per recipient by string joins.
 *
 * Each body part takes the smaller transfer encoding. Mostly ASCII text (English) stays readable
 * quoted-printable: each placeholder is put on an encoded line of its own (a soft break before
 * and after), so a value of any length is encoded alone and spliced in without re-encoding the
 * body. Mostly non-ASCII text (Chinese) is less than half that size in base64: the body is
 * encoded ahead around the placeholders, and per recipient only the values and the bytes at their
 * edges are (see `base64-body`). This module must stay free of mjml: the sender and the signup
 * flow load it.
 */

export interface FromIdentity {
  fromAddress: string;
  fromName: string;
  replyTo?: string;
}

export interface MessageContent {
  subject: string;
  html: string;
  text: string;
  lang: string;
}

export interface CompileOptions {
  /** `List-Id` (RFC 2919): a bare id like `newsletter.blog.example.com`. */
  listId?: string;
  /** RFC 8058 one-click unsubscribe: the placeholder standing for the recipient's https URL. */
  listUnsubscribe?: { urlPlaceholder: string; mailto?: string };
  /** Every placeholder the html and text may contain; each needs a value in `personalise`. */
  placeholders: string[];
  /** Values of some of them that depend on the recipient's language, kept with the message. */
  languageValues?: LanguageValues;
}

/**
 * Placeholder values by language (the footer's own words), so one compiled message speaks each
 * recipient's language around a text that stays in its own. `fallback` is the language used
 * for a recipient whose language is none of them (or unknown).
 */
export interface LanguageValues {
  fallback: string;
  byLanguage: Record<string, Record<string, string>>;
}

/**
 * The values for a recipient of language `lang` (`zh`, `zh-CN`, `en-GB`, …): its own, else
 * those of a language with the same primary subtag, else the fallback's. None without values.
 */
export function valuesForLanguage(
  values: LanguageValues | undefined,
  lang: string | undefined,
): Record<string, string> {
  if (values === undefined) return {};
  const languages = Object.keys(values.byLanguage);
  const primary = (tag: string) => tag.toLowerCase().split(/[-_]/)[0];
  const chosen =
    languages.find((language) => language.toLowerCase() === lang?.toLowerCase()) ??
    languages.find((language) => lang !== undefined && primary(language) === primary(lang)) ??
    values.fallback;
  return values.byLanguage[chosen] ?? {};
}

/** Where a placeholder sits decides how its value is escaped before it is encoded. */
type PlaceholderContext = 'html' | 'text' | 'header';

export interface PlaceholderSegment {
  placeholder: string;
  context: PlaceholderContext;
}

/** A base64 body part: its text (line breaks as CRLF) and the placeholders in it, in order. */
export interface Base64Segment {
  base64: Array<string | PlaceholderSegment>;
}

/** A string is sent as it is: ASCII header lines, boundaries, quoted-printable body lines. */
export type MessageSegment = string | PlaceholderSegment | Base64Segment;

const FORMAT = 'pushletter.message.v2';
/** v1 (quoted-printable only) is v2 without base64 segments: messages stored before v2 still go. */
const READABLE_FORMATS: ReadonlySet<string> = new Set([FORMAT, 'pushletter.message.v1']);

/** Whether `personalise` can read this stored message (checked before anyone is claimed). */
export function isReadableMessage(message: { format?: unknown }): boolean {
  return typeof message.format === 'string' && READABLE_FORMATS.has(message.format);
}

/** Plain JSON: stored with the issue and read back by the send Lambda. */
export interface CompiledMessage {
  format: typeof FORMAT;
  fromDomain: string;
  /** Header lines before the per-recipient ones (From, Reply-To), CRLF-terminated. */
  head: string;
  /** Everything after To, Date and Message-ID: the other headers, the blank line and the body. */
  rest: MessageSegment[];
  placeholders: string[];
  languageValues?: LanguageValues;
}

export interface Recipient {
  to: string;
  /** Placeholder -> value, e.g. the recipient's unsubscribe URL. */
  values: Record<string, string>;
  date?: Date;
  /** A stable id (e.g. from the delivery record), with or without `@domain` and brackets. */
  messageId?: string;
}

const CRLF = '\r\n';

export function compileMessage(
  content: MessageContent,
  sender: FromIdentity,
  options: CompileOptions,
): CompiledMessage {
  const fromAddress = checkAddress(sender.fromAddress, 'From');
  const placeholders = [...new Set(options.placeholders)].filter(Boolean);
  for (const placeholder of placeholders) {
    checkHeaderValue(placeholder, `Placeholder "${placeholder}"`);
  }
  const head = [mailboxHeader('From', fromAddress, sender.fromName)];
  if (sender.replyTo) head.push(mailboxHeader('Reply-To', sender.replyTo));

  const boundary = `=_pushletter_${randomBytes(12).toString('hex')}`;
  const rest: MessageSegment[] = [];
  const push = (segment: MessageSegment) => {
    const last = rest[rest.length - 1];
    if (typeof segment === 'string' && typeof last === 'string') rest[rest.length - 1] = last + segment;
    else rest.push(segment);
  };

  push(unstructuredHeader('Subject', content.subject) + CRLF);
  if (options.listId) {
    push(`List-Id: <${checkHeaderValue(options.listId.replace(/^<|>$/g, ''), 'List-Id')}>${CRLF}`);
  }
  if (options.listUnsubscribe) {
    const { urlPlaceholder, mailto } = options.listUnsubscribe;
    if (!placeholders.includes(urlPlaceholder)) placeholders.push(urlPlaceholder);
    push('List-Unsubscribe: <');
    push({ placeholder: urlPlaceholder, context: 'header' });
    if (mailto) {
      const address = mailto.replace(/^mailto:/i, '');
      push(`>,${CRLF} <mailto:${checkHeaderValue(address, 'List-Unsubscribe mailto')}>${CRLF}`);
    } else {
      push(`>${CRLF}`);
    }
    push(`List-Unsubscribe-Post: List-Unsubscribe=One-Click${CRLF}`);
  }
  push(`MIME-Version: 1.0${CRLF}`);
  push(`Content-Type: multipart/alternative; boundary="${boundary}"${CRLF}`);
  const lang = content.lang.replace(/[^A-Za-z0-9-]/g, '');
  if (lang) push(`Content-Language: ${lang}${CRLF}`);
  push(CRLF);

  for (const [subtype, body, context] of [
    ['plain', content.text, 'text'],
    ['html', content.html, 'html'],
  ] as const) {
    const pieces = splitAtPlaceholders(body, placeholders, context);
    const partHeader = (encoding: string) =>
      `--${boundary}${CRLF}Content-Type: text/${subtype}; charset=utf-8${CRLF}Content-Transfer-Encoding: ${encoding}${CRLF}${CRLF}`;
    // Sizes with the placeholders in place of values: a value weighs about the same either way.
    if (base64Length(Buffer.byteLength(canonicalLineBreaks(body))) < encodeQuotedPrintable(body).length) {
      push(partHeader('base64'));
      // Its lines end in CRLF, so the delimiter follows directly.
      push({ base64: pieces.map((piece) => (typeof piece === 'string' ? canonicalLineBreaks(piece) : piece)) });
    } else {
      push(partHeader('quoted-printable'));
      for (const [index, piece] of pieces.entries()) {
        // A soft break at the end puts the next placeholder at the start of an encoded line.
        push(typeof piece === 'string' ? encodeQuotedPrintable(piece, index < pieces.length - 1) : piece);
      }
      push(CRLF);
    }
  }
  push(`--${boundary}--${CRLF}`);

  const compiled: CompiledMessage = {
    format: FORMAT,
    fromDomain: domainOf(fromAddress),
    head: head.join(CRLF) + CRLF,
    rest,
    placeholders,
  };
  if (options.languageValues !== undefined) compiled.languageValues = options.languageValues;
  return compiled;
}

/** The body's text between placeholders (never empty) and the placeholders, in order. */
function splitAtPlaceholders(
  body: string,
  placeholders: string[],
  context: PlaceholderContext,
): Array<string | PlaceholderSegment> {
  if (placeholders.length === 0) return body ? [body] : [];
  const pattern = new RegExp(
    placeholders.map((placeholder) => placeholder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'),
    'g',
  );
  const pieces: Array<string | PlaceholderSegment> = [];
  let position = 0;
  for (const match of body.matchAll(pattern)) {
    if (match.index > position) pieces.push(body.slice(position, match.index));
    pieces.push({ placeholder: match[0], context });
    position = match.index + match[0].length;
  }
  if (position < body.length) pieces.push(body.slice(position));
  return pieces;
}

/** The value as it goes into its context: checked for a header, HTML-escaped for the html part. */
function valueText(value: string, context: PlaceholderContext, placeholder: string): string {
  switch (context) {
    case 'header':
      return checkHeaderValue(value, `The value of ${placeholder}`);
    case 'html':
      return escapeHtml(value);
    case 'text':
      return value;
  }
}

/**
 * Base64 bodies prepared for splicing, per segment of a compiled message: built on a message's
 * first recipient and dropped with the message. A stored message is read back as plain JSON, so
 * the preparation lives beside it in memory rather than in it.
 */
const preparedBodies = new WeakMap<Base64Segment, SplicedBase64Body<PlaceholderSegment>>();

function preparedBody(segment: Base64Segment): SplicedBase64Body<PlaceholderSegment> {
  let body = preparedBodies.get(segment);
  if (!body) {
    body = new SplicedBase64Body(segment.base64);
    preparedBodies.set(segment, body);
  }
  return body;
}

function messageIdHeader(messageId: string | undefined, fromDomain: string): string {
  const id = (messageId ?? randomUUID()).replace(/^<|>$/g, '');
  checkHeaderValue(id, 'Message-ID');
  if (/[<>]/.test(id) || id.split('@').length > 2) {
    throw new InvalidInputError(
      'MAIL_MESSAGE_ID_INVALID',
      `Message-ID "${id}" must be one id-left@id-right without brackets inside`,
    );
  }
  return `Message-ID: <${id.includes('@') ? id : `${id}@${fromDomain}`}>`;
}

/** The complete message for one recipient: validated To, fresh Date and Message-ID, values spliced in. */
export function personalise(message: CompiledMessage, recipient: Recipient): Buffer {
  if (!isReadableMessage(message)) {
    throw new PushletterError('MAIL_MESSAGE_FORMAT', `Unknown compiled message format "${String(message.format)}"`);
  }
  const to = mailboxHeader('To', recipient.to);
  const textOf = ({ placeholder, context }: PlaceholderSegment): string => {
    const value = recipient.values[placeholder];
    if (value === undefined) {
      throw new PushletterError('MAIL_PLACEHOLDER_MISSING', `No value for ${placeholder}: pass it in recipient.values`);
    }
    return valueText(value, context, placeholder);
  };
  const parts: string[] = [
    message.head,
    to,
    CRLF,
    `Date: ${formatDate(recipient.date ?? new Date())}${CRLF}`,
    messageIdHeader(recipient.messageId, message.fromDomain),
    CRLF,
  ];
  for (const segment of message.rest) {
    if (typeof segment === 'string') parts.push(segment);
    else if ('base64' in segment) preparedBody(segment).encode(textOf, parts);
    else if (segment.context === 'header') parts.push(textOf(segment));
    else parts.push(encodeQuotedPrintable(textOf(segment), true));
  }
  // Every part is ASCII: each is copied once, straight into the message (measured faster than
  // joining them into one string first).
  let length = 0;
  for (const part of parts) length += part.length;
  const data = Buffer.allocUnsafe(length);
  let offset = 0;
  for (const part of parts) offset += data.write(part, offset, 'latin1');
  return data;
}
