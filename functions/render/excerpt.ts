import { DomUtils, parseDocument } from 'htmlparser2';
import { escapeHtml } from '../commons/html';
import { htmlToText } from './plaintext';
import type { Post, PostSummary } from './types';

/**
 * A post as the weekly digest shows it: title, date, link, first image, and its excerpt cut to
 * a few sentences. The excerpt keeps its HTML when it is short prose (paragraphs and inline
 * markup: links, emphasis, code); anything else (an image, a table, a list, a heading, a long
 * first paragraph) becomes its plain text, cut, so a week of posts stays well under Gmail's
 * clipping size and every card looks alike.
 */

/** Characters of excerpt a digest card shows at most. */
export const EXCERPT_MAX_CHARACTERS = 400;
/** Where a cut excerpt ends when no sentence ends sooner. */
const CUT_AT_CHARACTERS = 280;

const INLINE_PROSE = new Set([
  'p',
  'br',
  'a',
  'em',
  'strong',
  'b',
  'i',
  'u',
  'code',
  'del',
  's',
  'sub',
  'sup',
  'mark',
  'kbd',
  'abbr',
  'span',
  'small',
]);

type Node = ReturnType<typeof parseDocument>['children'][number];

function onlyInlineProse(nodes: Node[]): boolean {
  return nodes.every((node) => {
    if (node.type === 'text') return true;
    if (node.type !== 'tag') return false;
    const element = node as Extract<Node, { name: string; children: Node[] }>;
    return INLINE_PROSE.has(element.name) && onlyInlineProse(element.children);
  });
}

/** The text cut at a sentence end near the limit, else at a word (or, in Chinese, any character). */
export function cutText(text: string, limit = CUT_AT_CHARACTERS): string {
  const characters = [...text];
  if (characters.length <= limit) return text;
  const head = characters.slice(0, limit).join('');
  const sentence = /^[\s\S]*[.!?。！？](?=\s|$|[^\s.!?。！？])/u.exec(head)?.[0];
  if (sentence !== undefined && [...sentence].length >= limit / 2) return sentence.trimEnd();
  const word = /^[\s\S]*\S(?=\s)/.exec(head)?.[0];
  const cut = word !== undefined && [...word].length >= limit / 2 ? word : head;
  return `${cut.trimEnd()}…`;
}

function firstImageOf(html: string): string | undefined {
  const image = DomUtils.findOne(
    (element) => element.name === 'img' && /^https?:\/\//i.test(element.attribs.src ?? ''),
    parseDocument(html).children,
  );
  return image?.attribs.src;
}

/**
 * The excerpt without its images (the card shows the post's first image on its own) and
 * headings (the card has the post's title; a post that opens with a heading has it as its
 * first "paragraph").
 */
function withoutImagesAndHeadings(html: string): string {
  const document = parseDocument(html);
  for (const element of DomUtils.findAll((node) => /^(img|h[1-6])$/.test(node.name), document.children))
    DomUtils.removeElement(element);
  return DomUtils.getOuterHTML(document, { encodeEntities: 'utf8' });
}

const textOf = (html: string) =>
  htmlToText(html, Number.MAX_SAFE_INTEGER)
    .replace(/[ \t]*\n[ \t]*\n+/g, '\n\n')
    .trim();

export function summarizePost(post: Post): PostSummary {
  const described = post.description ? `<p>${escapeHtml(post.description)}</p>` : '';
  let source = withoutImagesAndHeadings(post.excerptHtml ?? described);
  let text = textOf(source);
  if (text === '') {
    source = described;
    text = textOf(source);
  }
  const shortProse = onlyInlineProse(parseDocument(source).children) && [...text].length <= EXCERPT_MAX_CHARACTERS;
  const excerptText = shortProse ? text : cutText(text.replace(/\s+/g, ' '));
  const image = post.image ?? firstImageOf(post.bodyHtml);
  return {
    title: post.title,
    date: post.date.toISOString(),
    url: post.url,
    lang: post.lang,
    excerptHtml: shortProse ? source : excerptText === '' ? '' : `<p>${escapeHtml(excerptText)}</p>`,
    excerptText,
    ...(image === undefined ? {} : { image }),
  };
}
