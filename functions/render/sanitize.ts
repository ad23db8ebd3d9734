import { Parser } from 'htmlparser2';
import { PostLimitError, RENDER_LIMITS } from './limits';
import type { Warning } from './types';

/** What the sanitiser needs from the post it cleans. */
export interface SanitizeContext {
  /** The post's file, for errors. */
  file: string;
  /** Absolute URL for an `href`/`src` as written in the post; undefined drops it (javascript:, data:…). */
  resolveUrl(raw: string, kind: 'link' | 'image'): string | undefined;
  /** Link text for an embedded video or page that the email replaces with a link. */
  embedLinkText(embed: { provider?: string; title?: string; host: string }): string;
  warn(warning: Warning): void;
}

/**
 * Elements whose content must not reach the email either: code that would run, styles that
 * would restyle the whole email, and controls that do nothing in a mail client.
 */
const DROPPED_WITH_CONTENT = new Set([
  'script',
  'style',
  'template',
  'noscript',
  'form',
  'textarea',
  'select',
  'option',
  'button',
  'object',
  'applet',
  'svg',
  'math',
  'head',
  'title',
  'frameset',
  'frame',
  'canvas',
  'link',
  'meta',
  'base',
]);

/** Embeds that become a link to what they show. */
const EMBEDS = new Set(['iframe', 'video', 'audio', 'embed']);

const VOID = new Set([
  'br',
  'hr',
  'img',
  'wbr',
  'input',
  'embed',
  'source',
  'track',
  'area',
  'col',
  'param',
  'link',
  'meta',
  'base',
]);

const ALLOWED = new Set([
  'a',
  'abbr',
  'b',
  'blockquote',
  'br',
  'caption',
  'cite',
  'code',
  'col',
  'colgroup',
  'dd',
  'del',
  'div',
  'dl',
  'dt',
  'em',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'hr',
  'i',
  'img',
  'ins',
  'kbd',
  'li',
  'mark',
  'ol',
  'p',
  'pre',
  'q',
  's',
  'samp',
  'small',
  'span',
  'strong',
  'sub',
  'sup',
  'table',
  'tbody',
  'td',
  'tfoot',
  'th',
  'thead',
  'tr',
  'u',
  'ul',
  'var',
  'wbr',
]);

/** Layout elements email clients handle poorly, kept as the nearest plain element. */
const RENAMED: Record<string, string> = {
  section: 'div',
  article: 'div',
  header: 'div',
  footer: 'div',
  main: 'div',
  aside: 'div',
  nav: 'div',
  figure: 'div',
  figcaption: 'p',
  details: 'div',
  summary: 'p',
  center: 'div',
  font: 'span',
  strike: 's',
  tt: 'code',
  big: 'span',
};

const KEEP_ATTRIBUTES: Record<string, string[]> = {
  a: ['title'],
  img: ['title'],
  abbr: ['title'],
  td: ['colspan', 'rowspan', 'align'],
  th: ['colspan', 'rowspan', 'align', 'scope'],
  ol: ['start', 'reversed'],
  col: ['span'],
  colgroup: ['span'],
};

const IMAGE_STYLE = 'max-width:100%;height:auto;';

const CJK = '\\p{Script=Han}\\u3000-\\u303F\\uFF00-\\uFFEF';
/** A line break between two Chinese characters is a space in HTML but nothing in Chinese. */
const CJK_LINE_BREAK = new RegExp(`([${CJK}])[ \\t]*\\n[ \\t]*(?=[${CJK}])`, 'gu');

export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Keeps only what an email may carry, with an allow-list: known elements and attributes,
 * absolute http(s) links and images, images that never overflow, embeds as links.
 */
export function sanitizeHtml(html: string, context: SanitizeContext): string {
  checkHtmlDepth(html, context.file);
  let output = '';
  const open: string[] = [];
  let dropping: { name: string; depth: number } | undefined;
  let preformatted = 0;
  const warned = new Set<string>();

  const warnOnce = (key: string, warning: Warning) => {
    if (warned.has(key)) return;
    warned.add(key);
    context.warn(warning);
  };

  const embedAsLink = (name: string, attributes: Record<string, string>) => {
    const source = attributes.src ?? attributes.data ?? '';
    const link = videoPage(source) ?? (source ? context.resolveUrl(source, 'link') : undefined);
    warnOnce(`embed:${name}`, {
      code: 'HTML_EMBED_AS_LINK',
      message: `the post embeds an <${name}>; email clients do not play embeds, so the email shows a link instead`,
    });
    if (!link) return;
    const url = new URL(link);
    const text = context.embedLinkText({
      provider: videoProvider(url.hostname),
      title: attributes.title?.trim() || undefined,
      host: url.hostname,
    });
    const anchor = `<a href="${escapeAttribute(link)}">${escapeText(text)}</a>`;
    output += open.includes('p') ? anchor : `<p>${anchor}</p>`;
  };

  const parser = new Parser(
    {
      onopentag(rawName, attributes) {
        if (dropping) {
          if (rawName === dropping.name) dropping.depth += 1;
          return;
        }
        if (EMBEDS.has(rawName)) {
          embedAsLink(rawName, attributes);
          if (!VOID.has(rawName)) dropping = { name: rawName, depth: 1 };
          return;
        }
        if (DROPPED_WITH_CONTENT.has(rawName)) {
          warnOnce(`drop:${rawName}`, {
            code: 'HTML_REMOVED',
            message: `a <${rawName}> in the post was left out: email clients ${rawName === 'form' || rawName === 'button' ? 'cannot submit forms' : 'do not run or apply it'}`,
          });
          if (!VOID.has(rawName)) dropping = { name: rawName, depth: 1 };
          return;
        }
        const name = RENAMED[rawName] ?? rawName;
        if (!ALLOWED.has(name)) return;
        const kept = keepAttributes(name, attributes, context, warnOnce);
        if (kept === undefined) return;
        output += `<${name}${kept}>`;
        if (!VOID.has(name)) {
          open.push(name);
          if (name === 'pre') preformatted += 1;
        }
      },
      ontext(text) {
        if (dropping) return;
        output += escapeText(preformatted > 0 || !text.includes('\n') ? text : text.replace(CJK_LINE_BREAK, '$1'));
      },
      onclosetag(rawName) {
        if (dropping) {
          if (rawName === dropping.name) {
            dropping.depth -= 1;
            if (dropping.depth === 0) dropping = undefined;
          }
          return;
        }
        const name = RENAMED[rawName] ?? rawName;
        if (VOID.has(name) || !open.includes(name)) return;
        while (open.length > 0) {
          const closing = open.pop()!;
          if (closing === 'pre') preformatted -= 1;
          output += `</${closing}>`;
          if (closing === name) break;
        }
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  while (open.length > 0) output += `</${open.pop()}>`;
  return output;
}

/** Elements whose end tag may be left out: the parser closes them itself, so they do not nest. */
const OPTIONAL_END = new Set([
  'p',
  'li',
  'dt',
  'dd',
  'tr',
  'td',
  'th',
  'thead',
  'tbody',
  'tfoot',
  'option',
  'optgroup',
  'colgroup',
  'caption',
  'rb',
  'rt',
  'rp',
]);

/**
 * htmlparser2 looks through its whole stack of open elements at each end tag, and the steps
 * after it walk the tree recursively: 80,000 nested `<div>`s take seconds and overflow the
 * stack. One linear pass counts the open elements first (conservatively: an element counts
 * until its own end tag) and refuses a post nested deeper than any real one.
 */
function checkHtmlDepth(html: string, file: string): void {
  const open = new Map<string, number>();
  let depth = 0;
  for (const [, closing, rawName] of html.matchAll(/<(\/?)([A-Za-z][\w-]*)/g)) {
    const name = rawName!.toLowerCase();
    if (VOID.has(name) || OPTIONAL_END.has(name)) continue;
    const count = open.get(name) ?? 0;
    if (closing) {
      if (count > 0) {
        open.set(name, count - 1);
        depth -= 1;
      }
      continue;
    }
    open.set(name, count + 1);
    depth += 1;
    if (depth > RENDER_LIMITS.htmlDepth) {
      throw new PostLimitError(
        'POST_NESTING_LIMIT',
        `${file}: HTML elements are nested more than ${RENDER_LIMITS.htmlDepth} levels deep (an unclosed <${name}>?); close them or flatten the HTML`,
      );
    }
  }
}

function keepAttributes(
  name: string,
  attributes: Record<string, string>,
  context: SanitizeContext,
  warnOnce: (key: string, warning: Warning) => void,
): string | undefined {
  const kept: Array<[string, string]> = [];
  for (const attribute of KEEP_ATTRIBUTES[name] ?? []) {
    const value = attributes[attribute];
    if (value !== undefined) kept.push([attribute, value]);
  }
  if (name === 'a') {
    const href = attributes.href?.trim();
    if (href) {
      const resolved = context.resolveUrl(href, 'link');
      if (resolved) kept.unshift(['href', resolved]);
      else
        warnOnce(`href:${href.slice(0, 20)}`, {
          code: 'HTML_LINK_REMOVED',
          message: `a link to "${href.slice(0, 60)}" was removed: only web and mail links work in email`,
        });
    }
    // An anchor without a destination is plain text to a reader; keep its text, drop the tag.
    if (!kept.some(([key]) => key === 'href')) return undefined;
  } else if (name === 'img') {
    const source = attributes.src?.trim() ?? '';
    const resolved = source ? context.resolveUrl(source, 'image') : undefined;
    if (!resolved) {
      warnOnce(`img:${source.slice(0, 20)}`, {
        code: 'HTML_IMAGE_REMOVED',
        message: `an image "${source.slice(0, 60)}" was removed: email images must be web addresses`,
      });
      return undefined;
    }
    // No description is an empty alt: screen readers skip the image instead of reading out its
    // file name or the post's title at every image.
    const alt = attributes.alt?.trim() ?? '';
    kept.unshift(['src', resolved], ['alt', alt]);
    const width = attributes.width?.trim();
    if (width && /^\d+$/.test(width)) kept.push(['width', width]);
    kept.push(['style', IMAGE_STYLE]);
  } else if (name === 'code') {
    const language = /(?:^|\s)(language-[\w+#.-]+)/.exec(attributes.class ?? '')?.[1];
    if (language) kept.push(['class', language]);
  } else if (name === 'td' || name === 'th') {
    const align = /text-align:\s*(left|right|center)/i.exec(attributes.style ?? '')?.[1];
    if (align && !kept.some(([key]) => key === 'align')) kept.push(['align', align.toLowerCase()]);
  }
  return kept.map(([key, value]) => ` ${key}="${escapeAttribute(value)}"`).join('');
}

function videoProvider(hostname: string): string | undefined {
  const host = hostname.replace(/^www\./, '');
  if (/(^|\.)youtube(-nocookie)?\.com$|^youtu\.be$/.test(host)) return 'YouTube';
  if (/(^|\.)vimeo\.com$/.test(host)) return 'Vimeo';
  if (/(^|\.)bilibili\.com$/.test(host)) return 'bilibili';
  return undefined;
}

/** The page a reader would open for an embedded player, rather than the bare player. */
function videoPage(source: string): string | undefined {
  let url: URL;
  try {
    url = new URL(source.startsWith('//') ? `https:${source}` : source);
  } catch {
    return undefined;
  }
  const provider = videoProvider(url.hostname);
  if (provider === 'YouTube') {
    const id = /\/embed\/([\w-]{6,})/.exec(url.pathname)?.[1];
    return id ? `https://www.youtube.com/watch?v=${id}` : undefined;
  }
  if (provider === 'Vimeo') {
    const id = /\/video\/(\d+)/.exec(url.pathname)?.[1];
    return id ? `https://vimeo.com/${id}` : undefined;
  }
  if (provider === 'bilibili') {
    const bvid = url.searchParams.get('bvid');
    if (bvid && /^BV\w+$/.test(bvid)) return `https://www.bilibili.com/video/${bvid}`;
    const aid = url.searchParams.get('aid');
    if (aid && /^\d+$/.test(aid)) return `https://www.bilibili.com/video/av${aid}`;
  }
  return undefined;
}
