import { randomBytes, randomUUID } from 'node:crypto';
import { InvalidInputError, PushletterError } from '../commons/errors';
import { escapeHtml } from '../commons/html';
import { encodeQuotedPrintable } from './quoted-printable';
import { checkAddress, checkHeaderValue, domainOf, formatDate, mailboxHeader, unstructuredHeader } from './headers';

/**
 * The MIME message of a post, built once and personalised per recipient by string joins.
 *
 * Both parts are quoted-printable, where ASCII placeholders such as the unsubscribe URL stay
 * literal; each placeholder is put on an encoded line of its own (a soft break before and
 * after), so a value of any length can be encoded alone and spliced in without re-encoding
 * the body. This module must stay free of mjml: the sender and the signup flow load it.
 */

export interface Sender {
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
}

/** Where a placeholder sits decides how its value is escaped before quoted-printable. */
type PlaceholderContext = 'html' | 'text' | 'header';

export type MessageSegment = string | { placeholder: string; context: PlaceholderContext };

/** Plain JSON: stored with the issue and read back by the send Lambda. */
export interface CompiledMessage {
  format: 'pushletter.message.v1';
  fromDomain: string;
  /** Header lines before the per-recipient ones (From, Reply-To), CRLF-terminated. */
  head: string;
  /** Everything after To, Date and Message-ID: the other headers, the blank line and the body. */
  rest: MessageSegment[];
  placeholders: string[];
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

export function compileMessage(content: MessageContent, sender: Sender, options: CompileOptions): CompiledMessage {
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
    push(`--${boundary}${CRLF}Content-Type: text/${subtype}; charset=utf-8${CRLF}Content-Transfer-Encoding: quoted-printable${CRLF}${CRLF}`);
    for (const segment of encodeWithPlaceholders(body, placeholders, context)) push(segment);
    push(CRLF);
  }
  push(`--${boundary}--${CRLF}`);

  return { format: 'pushletter.message.v1', fromDomain: domainOf(fromAddress), head: head.join(CRLF) + CRLF, rest, placeholders };
}

function encodeWithPlaceholders(body: string, placeholders: string[], context: PlaceholderContext): MessageSegment[] {
  if (placeholders.length === 0) return [encodeQuotedPrintable(body)];
  const pattern = new RegExp(placeholders.map((placeholder) => placeholder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  const segments: MessageSegment[] = [];
  let position = 0;
  for (const match of body.matchAll(pattern)) {
    const before = body.slice(position, match.index);
    // The soft break puts the placeholder at the start of an encoded line.
    if (before) segments.push(encodeQuotedPrintable(before, true));
    segments.push({ placeholder: match[0], context });
    position = match.index + match[0].length;
  }
  const after = body.slice(position);
  if (after) segments.push(encodeQuotedPrintable(after));
  return segments;
}

function encodeValue(value: string, context: PlaceholderContext, placeholder: string): string {
  switch (context) {
    case 'header':
      return checkHeaderValue(value, `The value of ${placeholder}`);
    case 'html':
      return encodeQuotedPrintable(escapeHtml(value), true);
    case 'text':
      return encodeQuotedPrintable(value, true);
  }
}

function messageIdHeader(messageId: string | undefined, fromDomain: string): string {
  const id = (messageId ?? randomUUID()).replace(/^<|>$/g, '');
  checkHeaderValue(id, 'Message-ID');
  if (/[<>]/.test(id) || id.split('@').length > 2) {
    throw new InvalidInputError('MAIL_MESSAGE_ID_INVALID', `Message-ID "${id}" must be one id-left@id-right without brackets inside`);
  }
  return `Message-ID: <${id.includes('@') ? id : `${id}@${fromDomain}`}>`;
}

/** The complete message for one recipient: validated To, fresh Date and Message-ID, values spliced in. */
export function personalise(message: CompiledMessage, recipient: Recipient): Buffer {
  if (message.format !== 'pushletter.message.v1') {
    throw new PushletterError('MAIL_MESSAGE_FORMAT', `Unknown compiled message format "${String(message.format)}"`);
  }
  const to = mailboxHeader('To', recipient.to);
  const encoded = new Map<string, string>();
  const parts: string[] = [
    message.head,
    to,
    CRLF,
    `Date: ${formatDate(recipient.date ?? new Date())}${CRLF}`,
    messageIdHeader(recipient.messageId, message.fromDomain),
    CRLF,
  ];
  for (const segment of message.rest) {
    if (typeof segment === 'string') {
      parts.push(segment);
      continue;
    }
    const key = `${segment.context}\u0000${segment.placeholder}`;
    let value = encoded.get(key);
    if (value === undefined) {
      const raw = recipient.values[segment.placeholder];
      if (raw === undefined) {
        throw new PushletterError('MAIL_PLACEHOLDER_MISSING', `No value for ${segment.placeholder}: pass it in recipient.values`);
      }
      value = encodeValue(raw, segment.context, segment.placeholder);
      encoded.set(key, value);
    }
    parts.push(value);
  }
  return Buffer.from(parts.join(''), 'latin1');
}
