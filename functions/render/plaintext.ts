import { parseDocument } from 'htmlparser2';
import { splitByOctets } from '../commons/octets';

/**
 * The plain-text part, made from the same HTML as the email: headings, lists, quotes, tables
 * and code blocks keep their shape, links read `text (url)` (an autolink once), prose wraps at
 * 76 columns at word boundaries (Chinese words found by ICU's segmenter, never split), and no
 * line passes the 998-octet limit of RFC 5322.
 */

/** htmlparser2's DOM node types, named through its own API (domhandler is its dependency, not ours). */
type ChildNode = ReturnType<typeof parseDocument>['children'][number];
type Element = Extract<ChildNode, { attribs: Record<string, string> }>;

export const TEXT_WIDTH = 76;
export const MAX_LINE_OCTETS = 998;

const BLOCK_TAGS = new Set([
  'address',
  'article',
  'aside',
  'blockquote',
  'dd',
  'details',
  'div',
  'dl',
  'dt',
  'figcaption',
  'figure',
  'footer',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'header',
  'hr',
  'li',
  'main',
  'nav',
  'ol',
  'p',
  'pre',
  'section',
  'summary',
  'table',
  'ul',
  'center',
]);
const SKIPPED_TAGS = new Set(['script', 'style', 'head', 'title', 'template', 'noscript', 'iframe', 'object', 'svg']);

/** East Asian wide and fullwidth characters take two columns in a monospaced reader. */
const WIDE =
  /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{20000}-\u{3fffd}]/u;

/** The same ranges as WIDE, by code point: this runs per character, a regular expression is slower. */
function isWideCode(code: number): boolean {
  if (code < 0x1100) return false;
  return (
    code <= 0x115f ||
    (code >= 0x2e80 && code <= 0x303e) ||
    (code >= 0x3041 && code <= 0x4dbf) ||
    (code >= 0x4e00 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x20000 && code <= 0x3fffd)
  );
}
/** Chinese typesetting: no line starts with closing punctuation or ends with opening punctuation (single characters, looked up per candidate break). */
const NO_LINE_START = new Set('，。、；：？！）」』》〉】〕”’…—,.;:?!)]}%');
const NO_LINE_END = new Set('（「『《〈【〔“‘([{');

export function displayWidth(text: string): number {
  let width = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.codePointAt(index)!;
    if (code > 0xffff) index++;
    width += isWideCode(code) ? 2 : 1;
  }
  return width;
}

interface Context {
  /** Prefix for every line of the current block (blockquote `> `, list indentation). */
  prefix: string;
  /** Prefix for the first line only (a list marker); when used, `prefix` grows by its width. */
  marker?: string;
  /** Inside a list item: nested blocks follow without blank lines. */
  tight: boolean;
}

const CJK_LINE_BREAK = new RegExp(`(${WIDE.source})[ \\t]*\\r?\\n[ \\t]*(?=${WIDE.source})`, 'gu');

class TextWriter {
  private readonly lines: string[] = [];
  private inline = '';
  /** `inline` is empty or ends with a space; kept as a flag because `endsWith` on the growing string copies it each time. */
  private atWordStart = true;
  private needBlank = false;
  private lastWasBlank = true;
  /** After a URL: mail clients linkify up to the next space, so `url，` would swallow the comma. */
  private spaceAfterUrl = false;

  constructor(private readonly width: number) {}

  text(value: string): void {
    // A source line break between two Chinese characters is not a space (CSS Text 3 does the same).
    const joined = value.includes('\n') ? value.replace(CJK_LINE_BREAK, '$1') : value;
    const collapsed = joined.replace(/[\t\n\r ]+/g, ' ');
    if (collapsed === ' ' && this.atWordStart) return;
    // ASCII closing punctuation is fine: linkifiers leave it out of the URL.
    if (this.spaceAfterUrl && /^[^\s).,;:!?'"\]]/.test(collapsed)) this.append(' ');
    this.spaceAfterUrl = false;
    this.append(this.atWordStart ? collapsed.replace(/^ /, '') : collapsed);
  }

  private append(piece: string): void {
    if (piece === '') return;
    this.inline += piece;
    this.atWordStart = piece.endsWith(' ');
  }

  url(value: string): void {
    this.text(value);
    this.spaceAfterUrl = true;
  }

  /** Ends the current paragraph or line, wrapped under the context's prefixes. */
  flush(context: Context): void {
    const content = this.inline.trim();
    this.inline = '';
    this.atWordStart = true;
    this.spaceAfterUrl = false;
    if (content === '') return;
    this.blankIfNeeded(context);
    const first = context.prefix + (context.marker ?? '');
    const rest = context.prefix + ' '.repeat(context.marker?.length ?? 0);
    // Later lines of a list item, and blocks nested in it, indent under the marker's text.
    context.marker = undefined;
    context.prefix = rest;
    for (const line of wrap(content, this.width, first, rest)) this.push(line);
  }

  /** A verbatim line (code): never wrapped, only split if it would pass the octet limit. */
  raw(line: string, context: Context): void {
    this.blankIfNeeded(context);
    for (const piece of splitByOctets(context.prefix + line.replace(/\s+$/, ''), MAX_LINE_OCTETS)) this.push(piece);
  }

  /** Asks for one blank line before whatever comes next. */
  separate(context: Context): void {
    if (!context.tight && !this.lastWasBlank) this.needBlank = true;
  }

  blankIfNeeded(context: Context): void {
    if (!this.needBlank) return;
    this.needBlank = false;
    this.lines.push(context.prefix.trimEnd());
    this.lastWasBlank = true;
  }

  private push(line: string): void {
    this.lines.push(line);
    this.lastWasBlank = false;
  }

  result(): string {
    return this.lines.join('\n');
  }
}

export function htmlToText(html: string, width = TEXT_WIDTH): string {
  return documentToText(parseDocument(html), width);
}

/** The plain text of an already parsed body; reads the document without changing it. */
export function documentToText(document: ReturnType<typeof parseDocument>, width = TEXT_WIDTH): string {
  const writer = new TextWriter(width);
  const context: Context = { prefix: '', tight: false };
  walk(document.children, writer, context);
  writer.flush(context);
  return writer.result();
}

function attribute(element: Element, name: string): string {
  return element.attribs[name] ?? '';
}

function textContent(nodes: ChildNode[]): string {
  let text = '';
  for (const node of nodes) {
    if (node.type === 'text') text += node.data;
    else if (node.type === 'tag' && node.name === 'br') text += '\n';
    else if ((node.type === 'tag' || node.type === 'root') && !SKIPPED_TAGS.has((node as Element).name)) {
      text += textContent(node.children as ChildNode[]);
    }
  }
  return text;
}

/** `https://example.com/` and `example.com` read the same; an autolink prints its URL once. */
function sameTarget(text: string, href: string): boolean {
  const normalise = (value: string) =>
    value
      .trim()
      .replace(/^mailto:/i, '')
      .replace(/^https?:\/\//i, '')
      .replace(/\/$/, '')
      .toLowerCase();
  return normalise(text) === normalise(href);
}

function walk(nodes: ChildNode[], writer: TextWriter, context: Context): void {
  for (const node of nodes) {
    if (node.type === 'text') {
      writer.text(node.data);
      continue;
    }
    if (node.type !== 'tag') continue;
    const element = node as Element;
    const name = element.name;
    if (SKIPPED_TAGS.has(name)) continue;
    if (name === 'br') {
      writer.flush(context);
      continue;
    }
    if (name === 'img') {
      const alt = attribute(element, 'alt').trim();
      if (alt) writer.text(`[${alt}]`);
      continue;
    }
    if (name === 'a') {
      const href = attribute(element, 'href').trim();
      const label = textContent(element.children).replace(/\s+/g, ' ').trim();
      walk(element.children, writer, context);
      if (/^(https?:|mailto:)/i.test(href)) {
        const target = href.replace(/^mailto:/i, '');
        if (!sameTarget(label, href)) writer.url(label ? ` (${target})` : target);
        else writer.url('');
      }
      continue;
    }
    if (!BLOCK_TAGS.has(name)) {
      walk(element.children, writer, context);
      continue;
    }
    writer.flush(context);
    writer.separate(context);
    switch (name) {
      case 'h1':
      case 'h2':
      case 'h3':
      case 'h4':
      case 'h5':
      case 'h6': {
        writer.text(`${'#'.repeat(Number(name[1]))} `);
        walk(element.children, writer, context);
        break;
      }
      case 'pre': {
        const code = textContent(element.children).replace(/\r\n?/g, '\n').replace(/\n$/, '');
        for (const line of code.split('\n')) writer.raw(line, context);
        break;
      }
      case 'blockquote': {
        writer.blankIfNeeded(context);
        const inner: Context = { prefix: `${context.prefix}> `, tight: false };
        walk(element.children, writer, inner);
        writer.flush(inner);
        break;
      }
      case 'ul':
      case 'ol': {
        let number = Number.parseInt(attribute(element, 'start'), 10);
        if (!Number.isFinite(number)) number = 1;
        for (const item of element.children) {
          if (item.type !== 'tag' || item.name !== 'li') continue;
          const marker = name === 'ol' ? `${number++}. ` : '- ';
          const inner: Context = { prefix: context.prefix, marker, tight: true };
          walk(item.children, writer, inner);
          writer.flush(inner);
        }
        break;
      }
      case 'table': {
        for (const row of rowsOf(element)) {
          writer.text(row.join(' | '));
          writer.flush(context);
        }
        break;
      }
      case 'hr': {
        writer.raw('-'.repeat(24), context);
        break;
      }
      default:
        walk(element.children, writer, context);
    }
    writer.flush(context);
    writer.separate(context);
  }
}

function rowsOf(table: Element): string[][] {
  const rows: string[][] = [];
  const visit = (nodes: ChildNode[]) => {
    for (const node of nodes) {
      if (node.type !== 'tag') continue;
      if (node.name === 'tr') {
        rows.push(
          node.children
            .filter((cell): cell is Element => cell.type === 'tag' && (cell.name === 'td' || cell.name === 'th'))
            .map((cell) => textContent(cell.children).replace(/\s+/g, ' ').trim()),
        );
      } else if (node.name !== 'table') {
        visit(node.children);
      }
    }
  };
  visit(table.children);
  return rows;
}

const segmenter = new Intl.Segmenter('zh', { granularity: 'word' });

const isWide = (character: string | undefined) => character !== undefined && isWideCode(character.codePointAt(0)!);

/**
 * Can a line end before `text[index]`? At a space; or between two characters when one is CJK
 * (Chinese has no spaces), at a word boundary from ICU's dictionary, not before closing or
 * after opening punctuation. Never inside a Latin word or a URL. The segmenter is asked only
 * about candidate positions (`containing`): walking every segment of a paragraph costs
 * microseconds per character.
 */
function breakChecker(text: string): (index: number) => boolean {
  let segments: Intl.Segments | undefined;
  return (index) => {
    const before = text[index - 1];
    const after = text[index];
    if (after === ' ') return true;
    if (before === ' ' || !(isWide(before) || isWide(after))) return false;
    if (NO_LINE_START.has(after ?? '') || NO_LINE_END.has(before ?? '')) return false;
    segments ??= segmenter.segment(text);
    return segments.containing(index)?.index === index;
  };
}

/** Where the line starting at `start` overflows `columns`: an index into `text`, never inside a surrogate pair. */
function fittingEnd(text: string, start: number, columns: number): number {
  let used = 0;
  let index = start;
  while (index < text.length) {
    const code = text.codePointAt(index)!;
    used += isWideCode(code) ? 2 : 1;
    if (used > columns) break;
    index += code > 0xffff ? 2 : 1;
  }
  return index;
}

export function wrap(text: string, width: number, firstPrefix = '', restPrefix = firstPrefix): string[] {
  const lines: string[] = [];
  const canBreak = breakChecker(text);
  let prefix = firstPrefix;
  let start = 0;
  while (start < text.length) {
    const fit = fittingEnd(text, start, Math.max(width - displayWidth(prefix), 1));
    if (fit >= text.length) break;
    let cut = -1;
    for (let index = fit; index > start; index--) {
      if (canBreak(index)) {
        cut = index;
        break;
      }
    }
    // Nothing fits (a long URL or word): it takes the line, up to the next place it can end.
    for (let index = fit + 1; cut < 0 && index < text.length; index++) {
      if (canBreak(index)) cut = index;
    }
    if (cut < 0) break;
    lines.push(prefix + text.slice(start, cut).trimEnd());
    start = cut;
    while (text[start] === ' ') start++;
    prefix = restPrefix;
  }
  if (start < text.length) lines.push(prefix + text.slice(start));
  return lines.flatMap((value) => splitByOctets(value, MAX_LINE_OCTETS));
}
