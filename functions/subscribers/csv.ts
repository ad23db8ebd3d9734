import type { Topic } from '../commons/config';
import { InvalidInputError } from '../commons/errors';
import { AddressError, normaliseAddress } from './address';
import { checkChoices, FREQUENCIES } from './choices';
import type { Frequency, Subscriber } from './types';

/** One address to import, after validation and merging. */
export interface ImportRow {
  /** Line of the file the row starts on (the header is line 1). */
  line: number;
  /** Normalised address. */
  email: string;
  /** From a `created` / `subscribed` column when it holds a date, as ISO time. */
  createdAt?: string;
  /** From a `lang` / `language` column when it holds a language tag. */
  lang?: string;
  /** From a `name` column: how emails greet the reader. */
  name?: string;
  /** From a `topics` column, under the offered names; absent for every post (an empty cell, or every topic). */
  topics?: string[];
  /** From a `frequency` column: `post` or `digest`; absent (every post) for an empty cell. */
  frequency?: Frequency;
}

export interface InvalidRow {
  line: number;
  /** The cell as written (trimmed and cut to 100 characters for display). */
  value: string;
  reason: string;
}

export interface ParsedImport {
  rows: ImportRow[];
  invalid: InvalidRow[];
  /** Rows whose address (compared case-insensitively) appeared earlier in the file. */
  duplicates: { line: number; firstLine: number }[];
  /** Header cells of the columns nothing is kept from, as written, so the editor is told. */
  ignoredColumns: string[];
}

const EMAIL_HEADERS = new Set([
  'email',
  'e-mail',
  'email address',
  'e-mail address',
  'emailaddress',
  'mail',
  'address',
  '邮箱',
  '电子邮件',
  '电子邮箱',
  '邮箱地址',
]);
const CREATED_HEADERS = new Set([
  'created',
  'created_at',
  'createdat',
  'created at',
  'subscribed',
  'subscribed_at',
  'subscribed at',
  'signup date',
  'date',
]);
const LANGUAGE_HEADERS = new Set(['lang', 'language', 'locale']);
const TOPICS_HEADERS = new Set(['topics', 'topic', '主题']);
const FREQUENCY_HEADERS = new Set(['frequency', '频率']);
/**
 * Between topics in a cell: `;` or `|`, never the comma, which is the file's own delimiter in
 * most exports (a `;`-delimited file needs the cell quoted, or `|`). Export writes `|`.
 */
const TOPIC_SEPARATORS = /[;|]/;
export const EXPORT_TOPIC_SEPARATOR = '|';
// A full name before a first name: emails greet with what the column holds.
const NAME_HEADERS = [
  'name',
  'full name',
  'full_name',
  'fullname',
  'display name',
  'first name',
  'first_name',
  'firstname',
  'given name',
  '姓名',
  '名字',
  '称呼',
];
/** Longer than any real name; the rest of a runaway cell is not worth a greeting. */
const MAX_NAME_LENGTH = 100;
const LANGUAGE_TAG = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,2}$/;

function csvError(message: string): InvalidInputError {
  return new InvalidInputError('CSV_INVALID', message);
}

/**
 * Decodes the file as UTF-8 and refuses anything else with a message saying how to re-save it:
 * a wrong guess would silently import mangled addresses.
 */
export function decodeCsv(bytes: Uint8Array, name = 'the file'): string {
  if (bytes.length === 0)
    throw csvError(`${name} is empty; it needs a header row with an "email" column and one address per row`);
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw csvError(
      `${name} is UTF-16 text (Excel's "Unicode Text"); save it as "CSV UTF-8 (Comma delimited)" and import again`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw csvError(
      `${name} is not UTF-8 text (perhaps GBK, Latin-1 or a spreadsheet file); save it as "CSV UTF-8" and import again`,
    );
  }
  if (text.includes('\u0000'))
    throw csvError(`${name} looks like a binary file (an .xlsx?); export it as CSV UTF-8 first`);
  return text.replace(/^\uFEFF/, '');
}

/** Records of an RFC 4180 document, each with the line it starts on. */
export function parseCsvRecords(text: string, delimiter = ','): { line: number; fields: string[] }[] {
  const records: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let quoted = false;
  let quoteLine = 0;
  let fieldStarted = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    if (quoted) {
      if (char === '"') {
        if (text[index + 1] === '"') {
          field += '"';
          index++;
        } else {
          quoted = false;
        }
      } else {
        if (char === '\n') line++;
        field += char;
      }
      continue;
    }
    if (char === '"' && !fieldStarted) {
      quoted = true;
      quoteLine = line;
      fieldStarted = true;
    } else if (char === delimiter) {
      fields.push(field);
      field = '';
      fieldStarted = false;
    } else if (char === '\r' || char === '\n') {
      if (char === '\r' && text[index + 1] === '\n') index++;
      fields.push(field);
      records.push({ line: recordLine, fields });
      fields = [];
      field = '';
      fieldStarted = false;
      line++;
      recordLine = line;
    } else {
      // A quote in the middle of an unquoted field is kept as written (lenient, like Excel).
      field += char;
      fieldStarted = true;
    }
  }
  if (quoted) throw csvError(`line ${quoteLine}: a quoted field is never closed; check for a missing " in that row`);
  if (fieldStarted || fields.length > 0) {
    fields.push(field);
    records.push({ line: recordLine, fields });
  }
  // Blank lines carry no record.
  return records.filter((record) => !(record.fields.length === 1 && record.fields[0]!.trim() === ''));
}

/** Excel in many European locales writes `;`; tab-separated exports exist too. */
function detectDelimiter(headerLine: string): string {
  const counts = [',', ';', '\t'].map((delimiter) => ({ delimiter, count: headerLine.split(delimiter).length - 1 }));
  counts.sort((a, b) => b.count - a.count);
  return counts[0]!.count > 0 ? counts[0]!.delimiter : ',';
}

function headerName(cell: string): string {
  return cell.trim().toLowerCase().replace(/\s+/g, ' ');
}

/** A name cell as a greeting can use it: one line, no control characters, bounded. */
function cleanName(value: string): string | undefined {
  const name = value
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\s]+/gu, ' ')
    .trim();
  if (name === '' || name.includes('@')) return undefined;
  return name.length > MAX_NAME_LENGTH ? name.slice(0, MAX_NAME_LENGTH).trim() : name;
}

function parseDate(value: string): string | undefined {
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  // Only unambiguous forms: ISO dates and times. 03/04/2025 means different days in different countries.
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(trimmed)) return undefined;
  const time = Date.parse(trimmed.replace(' ', 'T'));
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}

/** A `topics` cell as the topics to store, or the problem to tell the editor. */
function readTopicsCell(cell: string, offered: readonly Topic[]): { topics?: string[] } | { problem: string } {
  const values = cell.split(TOPIC_SEPARATORS).filter((value) => value.trim() !== '');
  if (values.length === 0) return {};
  const checked = checkChoices({ topics: values }, offered);
  if ('choices' in checked) return { topics: checked.choices.topics };
  const unknown = checked.problem.kind === 'unknownTopic' ? checked.problem.value : cell;
  return {
    problem:
      offered.length === 0
        ? `topic "${unknown}" is not offered: no topics are set (cdk.json "topics" or PUSHLETTER_TOPICS); empty the topics cell or set the topics first`
        : `topic "${unknown}" is not offered (offered: ${offered.map((topic) => topic.name).join(', ')}); separate topics with ; or | and write them as the posts' front matter does`,
  };
}

/**
 * Reads an import file: a header row with an email column (and optionally a `name`, an ISO
 * `created` date, a `lang` tag, `topics` from `offered` and a `frequency`, which are kept; other columns are
 * listed as ignored), then one subscriber per row. Every row is validated; duplicates
 * (case-insensitive) are merged into the first occurrence. Problems are worded for the editor
 * who runs the import.
 */
export function parseImportCsv(bytes: Uint8Array, name = 'the file', offered: readonly Topic[] = []): ParsedImport {
  const text = decodeCsv(bytes, name);
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  // Excel writes a `sep=;` line first when asked to keep the delimiter with the file.
  const declared = /^sep=(.)$/i.exec(firstLine)?.[1];
  let records = parseCsvRecords(text, declared ?? detectDelimiter(firstLine));
  if (declared !== undefined) records = records.slice(1);
  if (records.length === 0)
    throw csvError(`${name} has no rows; it needs a header row with an "email" column and one address per row`);
  const header = records[0]!.fields.map(headerName);
  const emailColumn = header.findIndex((cell) => EMAIL_HEADERS.has(cell));
  if (emailColumn === -1) {
    const looksLikeAddress = header.some((cell) => cell.includes('@'));
    throw csvError(
      looksLikeAddress
        ? `${name} has no header row: add a first line "email" above the addresses`
        : `${name} has no "email" column in its header row (found: ${header.map((cell) => `"${cell}"`).join(', ') || 'nothing'}); name the address column "email"`,
    );
  }
  const createdColumn = header.findIndex((cell) => CREATED_HEADERS.has(cell));
  const languageColumn = header.findIndex((cell) => LANGUAGE_HEADERS.has(cell));
  const nameHeader = NAME_HEADERS.find((candidate) => header.includes(candidate));
  const nameColumn = nameHeader === undefined ? -1 : header.indexOf(nameHeader);
  // Two columns for the same choice: whichever were read, some readers would get the wrong one.
  for (const [names, what] of [
    [TOPICS_HEADERS, 'topics'],
    [FREQUENCY_HEADERS, 'frequency'],
  ] as const) {
    const found = records[0]!.fields.filter((cell) => names.has(headerName(cell)));
    if (found.length > 1)
      throw csvError(
        `${name} has ${found.length} ${what} columns (${found.map((cell) => `"${cell.trim()}"`).join(', ')}); keep one ${what} column and import again`,
      );
  }
  const topicsColumn = header.findIndex((cell) => TOPICS_HEADERS.has(cell));
  const frequencyColumn = header.findIndex((cell) => FREQUENCY_HEADERS.has(cell));
  const kept = new Set([emailColumn, createdColumn, languageColumn, nameColumn, topicsColumn, frequencyColumn]);
  const ignoredColumns = records[0]!.fields
    .map((cell) => cell.trim())
    .filter((cell, index) => !kept.has(index) && cell !== '');

  const rows: ImportRow[] = [];
  const invalid: InvalidRow[] = [];
  const duplicates: { line: number; firstLine: number }[] = [];
  const seen = new Map<string, number>();
  for (const record of records.slice(1)) {
    // An export's apostrophe before a formula-like address (see neutraliseFormula) is not part of it.
    const value = (record.fields[emailColumn] ?? '').trim().replace(/^'(?=[=+\-@])/, '');
    let email: string;
    try {
      email = normaliseAddress(value);
    } catch (error) {
      if (!(error instanceof AddressError)) throw error;
      invalid.push({
        line: record.line,
        value: value.length > 100 ? `${value.slice(0, 100)}…` : value,
        reason: value === '' ? 'no address in the email column' : error.editorMessage,
      });
      continue;
    }
    const firstSeen = seen.get(email);
    if (firstSeen !== undefined) {
      duplicates.push({ line: record.line, firstLine: firstSeen });
      continue;
    }
    const topicsCell = topicsColumn === -1 ? '' : (record.fields[topicsColumn] ?? '').trim();
    const topics = readTopicsCell(topicsCell, offered);
    if ('problem' in topics) {
      invalid.push({
        line: record.line,
        value: topicsCell.length > 100 ? `${topicsCell.slice(0, 100)}…` : topicsCell,
        reason: topics.problem,
      });
      continue;
    }
    const frequencyCell = frequencyColumn === -1 ? '' : (record.fields[frequencyColumn] ?? '').trim();
    const frequency = frequencyCell.toLowerCase() as Frequency;
    if (frequencyCell !== '' && !FREQUENCIES.includes(frequency)) {
      invalid.push({
        line: record.line,
        value: frequencyCell.length > 100 ? `${frequencyCell.slice(0, 100)}…` : frequencyCell,
        reason: `frequency "${frequencyCell.slice(0, 100)}" is not known: write "post" (every post) or "digest" (the weekly digest), or leave the cell empty for every post`,
      });
      continue;
    }
    seen.set(email, record.line);
    const row: ImportRow = { line: record.line, email };
    if (topics.topics !== undefined) row.topics = topics.topics;
    if (frequencyCell !== '') row.frequency = frequency;
    const createdAt = createdColumn === -1 ? undefined : parseDate(record.fields[createdColumn] ?? '');
    if (createdAt !== undefined) row.createdAt = createdAt;
    const lang = languageColumn === -1 ? undefined : (record.fields[languageColumn] ?? '').trim();
    if (lang && LANGUAGE_TAG.test(lang)) row.lang = lang;
    const name = nameColumn === -1 ? undefined : cleanName(record.fields[nameColumn] ?? '');
    if (name !== undefined) row.name = name;
    rows.push(row);
  }
  return { rows, invalid, duplicates, ignoredColumns };
}

/** RFC 4180 quoting: a field with a comma, quote or line break is quoted, quotes doubled. */
export function csvField(value: string | undefined): string {
  if (value === undefined) return '';
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export const EXPORT_COLUMNS = [
  'email',
  'name',
  'state',
  'created',
  'confirmed',
  'unsubscribed',
  'suppressed',
  'consent_at',
  'consent_source',
  'lang',
  'topics',
  'frequency',
] as const;

export function exportHeader(): string {
  return `${EXPORT_COLUMNS.join(',')}\r\n`;
}

/**
 * A cell a spreadsheet would run as a formula (it starts with =, +, -, @, tab or CR) gets a
 * leading apostrophe, as OWASP advises against CSV injection: Excel, LibreOffice and Sheets
 * then show it as text. `=1+1@example.com` is a valid address, so this is not hypothetical.
 */
export function neutraliseFormula(value: string | undefined): string | undefined {
  return value !== undefined && /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** One export line (CRLF, as RFC 4180 and spreadsheets expect). */
export function exportRow(subscriber: Subscriber): string {
  return `${[
    subscriber.email,
    subscriber.name,
    subscriber.state,
    subscriber.createdAt,
    subscriber.confirmedAt,
    subscriber.unsubscribedAt,
    subscriber.suppressedAt,
    subscriber.consent.at,
    subscriber.consent.source,
    subscriber.lang,
    subscriber.topics?.join(EXPORT_TOPIC_SEPARATOR),
    subscriber.frequency ?? 'post',
  ]
    .map((value) => csvField(neutraliseFormula(value)))
    .join(',')}\r\n`;
}
