import { isUtf8 } from 'node:buffer';
import { parseDocument, type Tags } from 'yaml';
import { InvalidInputError } from '../commons/errors';

/** Jekyll posts are text files; anything larger than this is not a post someone meant to email. */
export const MAX_POST_BYTES = 1024 * 1024;

/** How far git looks for a NUL byte before calling a file binary; we use the same rule. */
const BINARY_SNIFF_BYTES = 8000;

export interface SplitPost {
  /** The YAML between the `---` lines. */
  frontMatterText: string;
  /** Everything after the closing `---`, with LF line endings. */
  body: string;
  /** 1-based line number in the file where the body starts, for messages about the body. */
  bodyStartLine: number;
}

/**
 * Turns the bytes of a post into text the way an editor saved it: UTF-8, optionally with a BOM,
 * LF or CRLF line endings. Anything else is refused with a message naming the file.
 */
export function decodePostSource(file: string, source: Uint8Array | string): string {
  if (typeof source === 'string') {
    const bytes = Buffer.byteLength(source, 'utf8');
    if (bytes > MAX_POST_BYTES) throw tooLarge(file, bytes);
    if (source.slice(0, BINARY_SNIFF_BYTES).includes('\u0000')) throw binary(file);
    return normaliseText(source);
  }
  if (source.byteLength > MAX_POST_BYTES) throw tooLarge(file, source.byteLength);
  if ((source[0] === 0xff && source[1] === 0xfe) || (source[0] === 0xfe && source[1] === 0xff)) {
    throw new InvalidInputError(
      'POST_NOT_UTF8',
      `${file}: the file is saved as UTF-16, not UTF-8; save it again as UTF-8 (Jekyll reads posts as UTF-8)`,
    );
  }
  if (source.subarray(0, BINARY_SNIFF_BYTES).includes(0)) throw binary(file);
  // Node checks validity natively; the byte walk only runs to say where a bad file goes wrong.
  const invalidAt = isUtf8(source) ? undefined : firstInvalidUtf8Byte(source);
  if (invalidAt !== undefined) {
    const line = countLines(source, invalidAt);
    const byte = source[invalidAt]!.toString(16).toUpperCase().padStart(2, '0');
    throw new InvalidInputError(
      'POST_NOT_UTF8',
      `${file}: line ${line} is not valid UTF-8 (byte 0x${byte}); save the file as UTF-8 (it looks like another encoding such as Latin-1 or GBK)`,
    );
  }
  return normaliseText(Buffer.from(source.buffer, source.byteOffset, source.byteLength).toString('utf8'));
}

function normaliseText(text: string): string {
  return text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
}

function tooLarge(file: string, bytes: number): InvalidInputError {
  const megabytes = (bytes / (1024 * 1024)).toFixed(1);
  return new InvalidInputError(
    'POST_TOO_LARGE',
    `${file}: the post is ${megabytes} MB, over the 1 MB limit for a post; move large data or images out of the Markdown file`,
  );
}

function binary(file: string): InvalidInputError {
  return new InvalidInputError(
    'POST_BINARY',
    `${file}: this is a binary file, not a Markdown post; only text posts (.md, .markdown) can be emailed`,
  );
}

/** Returns the offset of the first byte that breaks UTF-8 (overlongs and surrogates included), if any. */
function firstInvalidUtf8Byte(bytes: Uint8Array): number | undefined {
  let index = 0;
  while (index < bytes.length) {
    const lead = bytes[index]!;
    if (lead < 0x80) {
      index += 1;
      continue;
    }
    let length: number;
    let minimum: number;
    if (lead >= 0xc2 && lead <= 0xdf) {
      length = 2;
      minimum = 0x80;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      minimum = 0x800;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      minimum = 0x10000;
    } else {
      return index;
    }
    if (index + length > bytes.length) return index;
    let codePoint = lead & (0xff >> (length + 1));
    for (let offset = 1; offset < length; offset += 1) {
      const continuation = bytes[index + offset]!;
      if ((continuation & 0xc0) !== 0x80) return index;
      codePoint = (codePoint << 6) | (continuation & 0x3f);
    }
    if (codePoint < minimum || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return index;
    index += length;
  }
  return undefined;
}

function countLines(bytes: Uint8Array, end: number): number {
  let line = 1;
  for (let index = 0; index < end; index += 1) if (bytes[index] === 0x0a) line += 1;
  return line;
}

/**
 * Splits front matter from the body with Jekyll's rule: the file starts with a `---` line and
 * the front matter ends at the next `---` (or `...`) line.
 */
export function splitFrontMatter(file: string, text: string): SplitPost {
  const lines = text.split('\n');
  if (!/^---[ \t]*$/.test(lines[0] ?? '')) {
    throw new InvalidInputError(
      'POST_NO_FRONT_MATTER',
      `${file}: no front matter, so Jekyll would not treat this file as a post; start the file with a line "---", settings such as "title: ...", and another "---"`,
    );
  }
  const closing = lines.findIndex((line, index) => index > 0 && /^(---|\.\.\.)[ \t]*$/.test(line));
  if (closing === -1) {
    throw new InvalidInputError(
      'POST_BAD_FRONT_MATTER',
      `${file}: the front matter that starts on line 1 never ends; add a line "---" after the last setting`,
    );
  }
  return {
    frontMatterText: lines.slice(1, closing).join('\n'),
    body: lines.slice(closing + 1).join('\n'),
    bodyStartLine: closing + 2,
  };
}

/**
 * Jekyll reads YAML with Ruby's YAML 1.1 parser: `yes`/`no`/`on`/`off` are booleans and a
 * repeated key keeps the last value. Timestamps stay strings here so dates without an offset
 * can be read in the site's timezone, as Jekyll does.
 */
const withoutTimestamps = (tags: Tags): Tags =>
  tags.filter((tag) => typeof tag === 'string' || tag.tag !== 'tag:yaml.org,2002:timestamp');

export function parseYamlMapping(
  text: string,
  describe: (line: number | undefined, problem: string) => InvalidInputError,
  lineOffset: number,
): Record<string, unknown> {
  const document = parseDocument(text, {
    schema: 'yaml-1.1',
    customTags: withoutTimestamps,
    uniqueKeys: false,
  });
  const error = document.errors[0];
  if (error) {
    const line = error.linePos?.[0]?.line;
    throw describe(line === undefined ? undefined : line + lineOffset, yamlProblem(error.message));
  }
  const value: unknown = document.toJS({ maxAliasCount: 100 });
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw describe(1 + lineOffset, 'the settings must be "key: value" lines, not a list or a single value');
  }
  return value as Record<string, unknown>;
}

/** The yaml package's messages end with the offending source; one line is enough for a person. */
function yamlProblem(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return first.replace(/ at line \d+, column \d+:?$/, '').replace(/:$/, '');
}

/** A key YAML reads as text, unless it is a NOT_TEXT_WORD. */
const PLAIN_KEY = /^[A-Za-z][\w-]{0,99}$/;
/** Words YAML 1.1 reads as booleans or null, and `e1`-like words the yaml package reads as floats. */
const NOT_TEXT_WORD =
  /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~|[eE][-+]?\d+)$/;
/** Characters that make a scalar anything but plain text: controls, tabs, and line separators YAML may honour. */
const UNUSUAL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/;
const DOUBLE_QUOTED = /^"([^"\\]*)"$/;
const SINGLE_QUOTED = /^'([^']*)'$/;
/** Starts a plain scalar that YAML could read as something other than text (indicators, numbers, signs). */
const NOT_TEXT_START = /^[-?:,[\]{}#&*!|>'"%@`.+~0-9\s]/;
/** A date: with timestamps off it stays text, as no number pattern allows a dash after a digit. */
const DATE_START = /^\d{4}-\d{1,2}-\d{1,2}(?:$|[T ])/;

/** A plain scalar that YAML 1.1 resolves to exactly this text, or undefined when unsure. */
function plainText(value: string, inFlow: boolean): string | undefined {
  if (value === '' || UNUSUAL.test(value) || value.includes(': ') || value.includes(' #') || value.endsWith(':'))
    return undefined;
  if (inFlow && /[[\]{},:]/.test(value)) return undefined;
  if (NOT_TEXT_START.test(value) && !DATE_START.test(value)) return undefined;
  return NOT_TEXT_WORD.test(value) ? undefined : value;
}

function simpleValue(raw: string): unknown {
  const value = raw.replace(/ +$/, '');
  if (value === '') return null;
  if (UNUSUAL.test(value)) return undefined;
  const quoted = DOUBLE_QUOTED.exec(value) ?? SINGLE_QUOTED.exec(value);
  if (quoted) return quoted[1];
  if (value.startsWith('[') && value.endsWith(']')) {
    const inner = value.slice(1, -1).replace(/^ +| +$/g, '');
    if (inner === '') return [];
    const items = inner.split(',').map((item) => plainText(item.replace(/^ +| +$/g, ''), true));
    return items.every((item) => item !== undefined) ? items : undefined;
  }
  return plainText(value, false);
}

/**
 * Most front matter is flat `key: value` lines whose values are text or flow lists of text;
 * those are read here, the YAML parser costing more than the rest of a post's parsing.
 * Anything else (numbers, booleans, nesting, escapes, comments, anchors) is undefined and
 * left to the YAML parser, so the result is always the one it gives.
 */
function readSimpleFrontMatter(text: string): Record<string, unknown> | undefined {
  const result: Record<string, unknown> = {};
  let keys = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    const key = line.slice(0, colon);
    if (colon === -1 || !PLAIN_KEY.test(key) || NOT_TEXT_WORD.test(key)) return undefined;
    const rest = line.slice(colon + 1);
    if (rest !== '' && !rest.startsWith(' ')) return undefined;
    const value = simpleValue(rest.replace(/^ +/, ''));
    if (value === undefined) return undefined;
    result[key] = value;
    keys += 1;
  }
  return keys > 0 ? result : undefined;
}

export function parseFrontMatter(file: string, frontMatterText: string): Record<string, unknown> {
  const simple = readSimpleFrontMatter(frontMatterText);
  if (simple) return simple;
  return parseYamlMapping(
    frontMatterText,
    (line, problem) =>
      new InvalidInputError(
        'POST_BAD_FRONT_MATTER',
        `${file}: front matter is not valid YAML${line === undefined ? '' : ` near line ${line}`} (${problem}); fix the YAML between the "---" lines (quote values that contain ": " or start with a quote)`,
      ),
    // the opening `---` is line 1 of the file
    1,
  );
}
