import { Marked, type MarkedExtension, type Tokens } from 'marked';

/**
 * Kramdown syntax that GFM does not know and that would show as junk in the email:
 * attribute lists (`{: .lead}`, `{:toc}`, `![x](y){: width="50%"}`), extensions (`{::options}`,
 * `{::comment}…{:/comment}`) and header ids (`## Title {#id}`). Run on text whose code has been
 * replaced by placeholders, so code that shows this syntax keeps it.
 */
export function removeKramdownSyntax(text: string): string {
  const withoutExtensions = replaceBlocks(
    replaceBlocks(text, '{::comment}', '{:/comment}', () => ''),
    '{::nomarkdown}',
    '{:/nomarkdown}',
    (inner) => inner,
  );
  const lines = withoutExtensions.replace(/\{::(?:options|nomarkdown|comment)[^{}\n]*\/\}/g, '').split('\n');
  const kept: string[] = [];
  for (const line of lines) {
    if (/^\s*\{:toc\}\s*$/i.test(line)) {
      // `* TOC` followed by `{:toc}` is kramdown's table of contents: the list item is a stand-in.
      while (kept.length > 0 && /^\s*([*+-]|\d+\.)\s+\S/.test(kept[kept.length - 1]!)) kept.pop();
      continue;
    }
    if (/^\s*\{:(?!:)[^{}\n]*\}\s*$/.test(line)) continue;
    // `*[HTML]: HyperText Markup Language` defines an abbreviation; the definition is not prose.
    if (/^\*\[[^\]\n]+\]:/.test(line)) continue;
    kept.push(
      line
        // No "{" inside: an unclosed "{:" must not make the search quadratic.
        .replace(/\{:(?!:)[^{}\n]*\}/g, '')
        .replace(/^(#{1,6}\s.*?)\s*\{#[\w-]+\}\s*$/, '$1'),
    );
  }
  return footnotes(kept.join('\n'));
}

/**
 * Kramdown footnotes (`text[^1]` … `[^1]: note`), which GFM in marked does not know: the
 * reference becomes a superscript number and the notes a numbered list at the end, in the
 * order they are referenced, as kramdown numbers them.
 */
function footnotes(text: string): string {
  const lines = text.split('\n');
  const definitions = new Map<string, string>();
  const body: string[] = [];
  for (let index = 0; index < lines.length; index += 1) {
    const definition = /^ {0,3}\[\^([^\]\s]+)\]:[ \t]*(.*)$/.exec(lines[index]!);
    if (!definition) {
      body.push(lines[index]!);
      continue;
    }
    const parts = [definition[2]!];
    while (index + 1 < lines.length && /^(?: {2,}|\t)\S/.test(lines[index + 1]!)) parts.push(lines[++index]!.trim());
    definitions.set(definition[1]!, parts.join(' '));
  }
  if (definitions.size === 0) return text;
  const order: string[] = [];
  const referenced = body.join('\n').replace(/\[\^([^\]\s]+)\]/g, (whole, id: string) => {
    if (!definitions.has(id)) return whole;
    if (!order.includes(id)) order.push(id);
    return `<sup>${order.indexOf(id) + 1}</sup>`;
  });
  if (order.length === 0) return referenced;
  const notes = order.map((id, position) => `${position + 1}. ${definitions.get(id)}`).join('\n');
  return `${referenced}\n\n<hr>\n\n${notes}\n`;
}

/** Replaces each `opening…closing` block in one left-to-right pass (no backtracking on unclosed ones). */
function replaceBlocks(text: string, opening: string, closing: string, replace: (inner: string) => string): string {
  let output = '';
  let last = 0;
  for (let start = text.indexOf(opening); start !== -1; start = text.indexOf(opening, last)) {
    const end = text.indexOf(closing, start + opening.length);
    if (end === -1) break;
    output += text.slice(last, start) + replace(text.slice(start + opening.length, end));
    last = end + closing.length;
  }
  return output + text.slice(last);
}

/**
 * Where a bare URL stops in CJK text: Han, kana, Hangul, CJK and full-width punctuation
 * (，。：；！？）」【】…), and the curly quotes, ellipsis and dashes Chinese prose sets around
 * links. None of them is ever an unencoded part of a URL a writer means to link.
 */
const CJK_URL_END =
  /[\u2014\u2015\u2018-\u201f\u2026\u2e80-\u2fff\u3000-\u9fff\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\ufe10-\ufe1f\ufe30-\ufe4f\uff00-\uffef\u{20000}-\u{3ffff}]/u;

/**
 * GFM's extended autolinks run a bare URL up to the next space or `<`, which Chinese text seldom
 * has: `见(https://example.com/a)，基于[b](https://example.com/b)。` became one link swallowing the
 * text and the real link after it. Here a bare URL also ends where CJK text or full-width
 * punctuation begins; the rest (trailing punctuation, an unbalanced `)`, English text after a
 * URL) is GFM's own rule, applied to what is left.
 */
const cjkAwareAutolinks: MarkedExtension = {
  tokenizer: {
    url(source) {
      const match = this.rules.inline.url.exec(source);
      // Addresses (`@`) are ASCII by their pattern; URLs without CJK keep marked's own handling.
      if (!match || match[2] === '@') return false;
      const end = match[0].search(CJK_URL_END);
      if (end === -1) return false;
      let url = match[0].slice(0, end);
      for (let previous = ''; previous !== url; ) {
        previous = url;
        url = this.rules.inline._backpedal.exec(url)?.[0] ?? '';
      }
      // The pattern needs a host character after the scheme, before any CJK: nothing to link is left only on odd input.
      if (url === '') return false;
      const href = match[1] === 'www.' ? `http://${url}` : url;
      return {
        type: 'link',
        raw: url,
        text: url,
        href,
        autolink: true,
        tokens: [{ type: 'text', raw: url, text: url }],
      } as Tokens.Link;
    },
  },
};

/** Built once: a Marked instance is stateless between parses, and building one per post shows up in profiles. */
const renderers = {
  soft: new Marked({ gfm: true, breaks: false, async: false }, cjkAwareAutolinks),
  hard: new Marked({ gfm: true, breaks: true, async: false }, cjkAwareAutolinks),
};

/** Jekyll's default kramdown settings read GFM without `hard_wrap`; a site may turn it on. */
export function markdownToHtml(text: string, options: { hardWrap?: boolean } = {}): string {
  return renderers[options.hardWrap === true ? 'hard' : 'soft'].parse(text) as string;
}
