import {
  DIGEST_EMAIL_MJML,
  DIGEST_IMAGE_MJML,
  DIGEST_MORE_MJML,
  DIGEST_POST_MJML,
  digestStringsFor,
} from '../../templates/digest';
import { FONT_STACK } from '../../templates/post';
import { escapeHtml } from '../commons/html';
import { cleanHeaderText } from '../mail/headers';
import { HTML_SIZE_BUDGET } from './clip';
import { compileMjml, fillTemplate, footerWords, formatPostDate, styleFragment } from './email';
import { cutText } from './excerpt';
import { wrap } from './plaintext';
import {
  FOOTER_WORD_PLACEHOLDERS,
  type PostSummary,
  PREFERENCES_URL_PLACEHOLDER,
  type RenderedEmail,
  UNSUBSCRIBE_URL_PLACEHOLDER,
  type Warning,
} from './types';

/**
 * The weekly digest's email: the week's posts a reader gets, each with its image, title, date,
 * excerpt and link, in the footer every email has: the reader's links and the footer's words
 * left as placeholders for the delivery worker, so the footer speaks the reader's language as
 * a post's does. Rendered once per distinct set of posts.
 */
export interface DigestEmailInput {
  /** In the order the email shows them. */
  posts: PostSummary[];
  /** The week it covers: posts sent from `since` until `until`. */
  since: Date;
  until: Date;
  site: { title: string; url: string };
  /** `en` or `zh-CN`: the digest's own words. */
  lang: string;
  /** The site's zone, for the dates shown. */
  timeZone: string;
  postalAddress: string;
}

export interface DigestEmail {
  subject: string;
  lang: string;
  html: string;
  text: string;
  /** How many of the posts it shows in full; the rest are counted in a line that links to the blog. */
  shown: number;
  /** Values of FOOTER_WORD_PLACEHOLDERS by language, as a post's (its web link goes to the blog). */
  footerWords: RenderedEmail['footerWords'];
  warnings: Warning[];
}

/** An excerpt cut this short when the full ones make the email too large for Gmail. */
const SHORT_EXCERPT_CHARACTERS = 120;

/** The days the digest covers, as the reader's language writes a range ("30 Nov – 6 Dec 2026"). */
function dateRange(since: Date, until: Date, lang: string, timeZone: string): string {
  const lastDay = new Date(until.getTime() - 1);
  // ICU writes a Chinese range in digits only ("2026/11/30 – 2026/12/6").
  if (/^zh\b/i.test(lang))
    return `${formatPostDate(since, lang, timeZone)}至${formatPostDate(lastDay, lang, timeZone)}`;
  try {
    return new Intl.DateTimeFormat(lang, { year: 'numeric', month: 'long', day: 'numeric', timeZone }).formatRange(
      since,
      lastDay,
    );
  } catch {
    return `${formatPostDate(since, lang, timeZone)} – ${formatPostDate(lastDay, lang, timeZone)}`;
  }
}

interface Shape {
  /** Posts shown in full. */
  shown: number;
  /** Excerpts as text cut to this many characters, or undefined for the excerpts as recorded. */
  excerptLimit?: number;
}

function excerptHtmlOf(post: PostSummary, shape: Shape): string {
  if (shape.excerptLimit === undefined) return styleFragment(post.excerptHtml);
  const text = cutText(post.excerptText.replace(/\s+/g, ' '), shape.excerptLimit);
  return text === '' ? '' : styleFragment(`<p>${escapeHtml(text)}</p>`);
}

function buildMjml(input: DigestEmailInput, shape: Shape): string {
  const strings = digestStringsFor(input.lang);
  const shown = input.posts.slice(0, shape.shown);
  const posts = shown
    .map((post) =>
      fillTemplate(DIGEST_POST_MJML, {
        image: post.image ? fillTemplate(DIGEST_IMAGE_MJML, { src: post.image, alt: post.title, url: post.url }) : '',
        url: post.url,
        title: post.title,
        dateLine: formatPostDate(new Date(post.date), input.lang, input.timeZone),
        excerpt: excerptHtmlOf(post, shape),
        readPost: strings.readPost,
      }),
    )
    .join('\n        ');
  const left = input.posts.length - shown.length;
  const morePosts =
    left > 0
      ? fillTemplate(DIGEST_MORE_MJML, {
          morePosts: strings.morePosts(left),
          siteUrl: input.site.url,
          visitBlog: strings.visitBlog,
        })
      : '';
  const preheader = input.posts.map((post) => post.title).join(' · ');
  return fillTemplate(DIGEST_EMAIL_MJML, {
    lang: input.lang,
    heading: strings.heading(input.site.title),
    fontStack: FONT_STACK,
    preheader: [...preheader].length > 140 ? `${[...preheader].slice(0, 139).join('')}…` : preheader,
    siteUrl: input.site.url,
    siteTitle: input.site.title,
    intro: strings.intro(input.posts.length, dateRange(input.since, input.until, input.lang, input.timeZone)),
    posts,
    morePosts,
    footerLang: FOOTER_WORD_PLACEHOLDERS.lang,
    whyYouReceive: `${FOOTER_WORD_PLACEHOLDERS.whyBefore}${input.site.title}${FOOTER_WORD_PLACEHOLDERS.whyAfter}`,
    postalAddress: input.postalAddress,
    unsubscribeUrl: UNSUBSCRIBE_URL_PLACEHOLDER,
    unsubscribe: FOOTER_WORD_PLACEHOLDERS.unsubscribe,
    preferencesUrl: PREFERENCES_URL_PLACEHOLDER,
    manageSubscription: FOOTER_WORD_PLACEHOLDERS.manageSubscription,
    webUrl: input.site.url,
    footerViewOnWeb: FOOTER_WORD_PLACEHOLDERS.viewOnWeb,
  });
}

function plainText(input: DigestEmailInput, shape: Shape): string {
  const strings = digestStringsFor(input.lang);
  const lines = [
    `${input.site.title} (${input.site.url})`,
    '',
    strings.heading(input.site.title),
    strings.intro(input.posts.length, dateRange(input.since, input.until, input.lang, input.timeZone)),
    '',
  ];
  input.posts.slice(0, shape.shown).forEach((post, index) => {
    const excerpt =
      shape.excerptLimit === undefined
        ? post.excerptText
        : cutText(post.excerptText.replace(/\s+/g, ' '), shape.excerptLimit);
    lines.push(`${index + 1}. ${post.title}`, `   ${formatPostDate(new Date(post.date), input.lang, input.timeZone)}`);
    for (const paragraph of excerpt.split(/\n\n+/).filter(Boolean)) lines.push(...wrap(paragraph, 72, '   '));
    lines.push(`   ${strings.readPost}: ${post.url}`, '');
  });
  const left = input.posts.length - shape.shown;
  if (left > 0) lines.push(`${strings.morePosts(left)} ${strings.visitBlog}: ${input.site.url}`, '');
  lines.push(
    '-- ',
    `${FOOTER_WORD_PLACEHOLDERS.whyBefore}${input.site.title}${FOOTER_WORD_PLACEHOLDERS.whyAfter}`,
    input.postalAddress,
    `${FOOTER_WORD_PLACEHOLDERS.unsubscribe}: ${UNSUBSCRIBE_URL_PLACEHOLDER}`,
    `${FOOTER_WORD_PLACEHOLDERS.manageSubscription}: ${PREFERENCES_URL_PLACEHOLDER}`,
    '',
  );
  return lines.join('\n');
}

/** A post's footer words, but its web link leads to the blog ("Visit the blog"). */
function digestFooterWords(lang: string): RenderedEmail['footerWords'] {
  const words = footerWords(lang);
  for (const [language, values] of Object.entries(words.byLanguage))
    values[FOOTER_WORD_PLACEHOLDERS.viewOnWeb] = digestStringsFor(language).visitBlog;
  return words;
}

const byteLength = (value: string) => Buffer.byteLength(value, 'utf8');

/**
 * Renders the digest under Gmail's clipping size: with the excerpts as recorded, else with
 * every excerpt cut short, else with as many posts as fit and a line linking to the blog for
 * the rest (a week of very many posts).
 */
export async function renderDigestEmail(input: DigestEmailInput): Promise<DigestEmail> {
  const strings = digestStringsFor(input.lang);
  let shape: Shape = { shown: input.posts.length };
  let { html, warnings } = await compileMjml(buildMjml(input, shape));
  if (byteLength(html) > HTML_SIZE_BUDGET) {
    shape = { shown: input.posts.length, excerptLimit: SHORT_EXCERPT_CHARACTERS };
    ({ html, warnings } = await compileMjml(buildMjml(input, shape)));
  }
  while (byteLength(html) > HTML_SIZE_BUDGET && shape.shown > 1) {
    // Each post weighs about the same: drop as many as the excess needs, and one more.
    const perPost = byteLength(html) / shape.shown;
    const drop = Math.max(1, Math.ceil((byteLength(html) - HTML_SIZE_BUDGET) / perPost));
    shape = { ...shape, shown: Math.max(1, shape.shown - drop) };
    ({ html, warnings } = await compileMjml(buildMjml(input, shape)));
  }
  const first = input.posts[0]?.title ?? '';
  return {
    subject: cleanHeaderText(strings.subject(input.site.title, first, input.posts.length)),
    lang: input.lang,
    html,
    text: plainText(input, shape),
    shown: shape.shown,
    footerWords: digestFooterWords(input.lang),
    warnings,
  };
}
