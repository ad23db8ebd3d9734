import { domainToASCII } from 'node:url';
import { InvalidInputError } from '../commons/errors';
import { splitByOctets } from '../commons/octets';

/**
 * Header fields per RFC 5322 and RFC 2047: nothing a post author or a reader typed can add a
 * header line, every line is 7-bit ASCII, and no line passes 78 characters where a fold is
 * possible (998 is the hard limit).
 */

const SOFT_LINE_LIMIT = 78;
/** Bytes of UTF-8 per encoded-word: 36 bytes -> 48 base64 characters -> a 60-character word. */
const ENCODED_WORD_BYTES = 36;

/** Title text as one header-safe line: CR/LF and other control characters become spaces or go. */
export function cleanHeaderText(value: string): string {
  return (
    value
      .replace(/[\r\n\t]+/g, ' ')
      // C0 and C1 controls, DEL, and the Unicode line/paragraph separators.
      .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '')
      .replace(/ {2,}/g, ' ')
      .trim()
  );
}

function isPlainAscii(value: string): boolean {
  return /^[\x20-\x7e]*$/.test(value) && !value.includes('=?');
}

/** Splits a string into encoded-words without cutting a UTF-8 sequence (or a surrogate pair). */
function encodedWords(value: string): string[] {
  return splitByOctets(value, ENCODED_WORD_BYTES).map(
    (word) => `=?UTF-8?B?${Buffer.from(word, 'utf8').toString('base64')}?=`,
  );
}

/**
 * One unstructured header field (`Subject: …`) folded and encoded, ending without CRLF.
 * Plain ASCII stays readable; anything else becomes RFC 2047 B encoded-words.
 */
export function unstructuredHeader(name: string, rawValue: string): string {
  const value = cleanHeaderText(rawValue);
  const words = isPlainAscii(value) ? value.split(' ').filter(Boolean) : encodedWords(value);
  return foldWords(`${name}:`, words);
}

/** Joins words after a field name, folding with CRLF SP before a word that would pass 78. */
export function foldWords(prefix: string, words: string[]): string {
  let header = prefix;
  let lineLength = prefix.length;
  for (const word of words) {
    if (lineLength + 1 + word.length > SOFT_LINE_LIMIT && lineLength > prefix.length) {
      header += `\r\n ${word}`;
      lineLength = 1 + word.length;
    } else {
      header += ` ${word}`;
      lineLength += 1 + word.length;
    }
  }
  return header;
}

/** A display name as an RFC 5322 phrase: atoms, a quoted string, or encoded-words. */
export function encodePhrase(rawName: string): string[] {
  const name = cleanHeaderText(rawName);
  if (!isPlainAscii(name)) return encodedWords(name);
  if (/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]+$/.test(name)) return name.split(' ').filter(Boolean);
  return [`"${name.replace(/(["\\])/g, '\\$1')}"`];
}

/** `From: Name <address>` (or another address field), folded. */
export function mailboxHeader(field: string, address: string, displayName?: string): string {
  const checked = checkAddress(address, field);
  const phrase = displayName ? encodePhrase(displayName) : [];
  return foldWords(`${field}:`, [...phrase, phrase.length ? `<${checked}>` : checked]);
}

const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]+$/;

/**
 * An address that can go in a header as-is: one `local@domain`, ASCII local part, the domain in
 * IDNA form. Anything that could smuggle a header (CR, LF, `<`, `,`) is rejected.
 */
export function checkAddress(address: string, field = 'To'): string {
  const trimmed = address.trim();
  const at = trimmed.lastIndexOf('@');
  const local = trimmed.slice(0, at);
  const domain = at > 0 ? domainToASCII(trimmed.slice(at + 1)) : '';
  if (
    at <= 0 ||
    !LOCAL_PART.test(local) ||
    local.length > 64 ||
    !domain ||
    !domain.includes('.') ||
    trimmed.length > 254
  ) {
    throw new InvalidInputError(
      'MAIL_ADDRESS_INVALID',
      `${field} address "${trimmed.replace(/[\r\n]/g, '\\n').slice(0, 80)}" is not a single plain email address (local@domain)`,
    );
  }
  return `${local}@${domain}`;
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 5322 date-time in UTC, e.g. `Thu, 26 Nov 2026 03:53:53 +0000`. */
export function formatDate(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${DAYS[date.getUTCDay()]}, ${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/** A value going into a header verbatim (a URL): printable ASCII only, no way to add a line. */
export function checkHeaderValue(value: string, what: string): string {
  if (!/^[\x21-\x7e]*$/.test(value)) {
    throw new InvalidInputError(
      'MAIL_HEADER_VALUE_INVALID',
      `${what} must be printable ASCII without spaces or line breaks`,
    );
  }
  return value;
}

/** `List-Id: <newsletter.blog.example.com>` (RFC 2919): the list name under the blog's host. */
export function listIdOf(settings: { listName: string; siteUrl: string }): string {
  const host = new URL(settings.siteUrl).hostname;
  return `${settings.listName.replace(/[^A-Za-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'newsletter'}.${host}`;
}
