import { DomUtils, parseDocument } from 'htmlparser2';
import {
  CONTINUE_READING_MJML,
  FONT_STACK,
  MONOSPACE_STACK,
  POST_EMAIL_MJML,
  POST_IMAGE_MJML,
} from '../../templates/post';
import { EMAIL_STRINGS, emailLanguageOf, stringsFor } from '../../templates/strings';
import type { Settings } from '../commons/config';
import { PushletterError } from '../commons/errors';
import { escapeHtml } from '../commons/html';
import { cleanHeaderText } from '../mail/headers';
import type { LanguageValues } from '../mail/message';
import { type Block, blocksWithin, HTML_SIZE_BUDGET, topLevelBlocks } from './clip';
import { type LinkTracking, trackLinks } from './link-rewrite';
import { documentToText, htmlToText } from './plaintext';
import {
  FOOTER_WORD_PLACEHOLDERS,
  type Post,
  PREFERENCES_URL_PLACEHOLDER,
  type RenderedEmail,
  type SiteConfig,
  UNSUBSCRIBE_URL_PLACEHOLDER,
  type Warning,
} from './types';

/** htmlparser2's DOM node types, named through its own API (domhandler is its dependency, not ours). */
type ChildNode = ReturnType<typeof parseDocument>['children'][number];
type Element = Extract<ChildNode, { attribs: Record<string, string> }>;

/**
 * A post's email, rendered once per post: MJML template around the post's HTML, responsive and
 * readable in dark mode, a plain-text part from the same content, cut before Gmail would clip
 * it. The reader's links (UNSUBSCRIBE_URL_PLACEHOLDER, PREFERENCES_URL_PLACEHOLDER) and the
 * footer's words (FOOTER_WORD_PLACEHOLDERS, their values in every language in `footerWords`) are
 * left for the delivery worker to fill, so the footer speaks the reader's language.
 */

type Mjml2Html = (
  input: string,
  options?: Record<string, unknown>,
) =>
  | Promise<{ html: string; errors: { formattedMessage?: string; message: string }[] }>
  | { html: string; errors: { formattedMessage?: string; message: string }[] };

let mjmlLoading: Promise<Mjml2Html> | undefined;

/** mjml takes ~0.7 s to load: only processes that render posts pay for it, once. */
export function loadMjml(): Promise<Mjml2Html> {
  mjmlLoading ??= import('mjml').then((module) => ((module as { default?: unknown }).default ?? module) as Mjml2Html);
  return mjmlLoading;
}

/** mjml options used for every post; exported so the benchmark renders the same way. */
export const MJML_OPTIONS = { validationLevel: 'soft', keepComments: false, fonts: {} } as const;

export async function compileMjml(source: string): Promise<{ html: string; warnings: Warning[] }> {
  const mjml2html = await loadMjml();
  const result = await mjml2html(source, { ...MJML_OPTIONS });
  const warnings = result.errors.map((error) => ({
    code: 'TEMPLATE_MJML',
    message: error.formattedMessage ?? error.message,
  }));
  return { html: result.html, warnings };
}

/** Fills `{{name}}` (escaped) and `{{{name}}}` (markup) in one pass. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(
    /\{\{\{(\w+)\}\}\}|\{\{(\w+)\}\}/g,
    (_match, raw: string | undefined, escaped: string | undefined) => {
      const name = (raw ?? escaped) as string;
      const value = values[name];
      if (value === undefined)
        throw new PushletterError('TEMPLATE_SLOT_MISSING', `The email template uses {{${name}}} but nothing fills it`);
      return raw !== undefined ? value : escapeHtml(value);
    },
  );
}

const LINK_COLOR = '#0b57d0';
/**
 * Table cells wrap between words only. Prose may break a long word anywhere to stay inside the
 * screen, but in a cell that lets the table shrink each column to one character ("Temperatu/re",
 * "22:0/0"); with whole words a table wider than the screen scrolls inside its own box instead.
 * Chinese still wraps between characters, as line breaking allows.
 */
const WHOLE_WORDS = 'word-break:normal;overflow-wrap:normal;';
const RULE_COLOR = '#d0d7de';

/**
 * Inline styles per element: Gmail's apps and Outlook drop or ignore much of a `<style>` block,
 * so what keeps the layout inside a phone's width is inline. Classes let the dark-mode styles
 * override colours where `<style>` is honoured. Author styles come first so these win.
 */
const ELEMENT_STYLES: Record<string, { style: string; className?: string }> = {
  p: { style: 'margin:0 0 16px;' },
  h1: { style: 'margin:28px 0 12px;font-size:24px;line-height:1.35;font-weight:700;' },
  h2: { style: 'margin:28px 0 12px;font-size:21px;line-height:1.35;font-weight:700;' },
  h3: { style: 'margin:24px 0 10px;font-size:18px;line-height:1.4;font-weight:700;' },
  h4: { style: 'margin:20px 0 8px;font-size:16px;line-height:1.4;font-weight:700;' },
  h5: { style: 'margin:20px 0 8px;font-size:15px;line-height:1.4;font-weight:700;' },
  h6: { style: 'margin:20px 0 8px;font-size:14px;line-height:1.4;font-weight:700;' },
  ul: { style: 'margin:0 0 16px;padding-left:24px;' },
  ol: { style: 'margin:0 0 16px;padding-left:24px;' },
  li: { style: 'margin:4px 0;' },
  a: {
    style: `color:${LINK_COLOR};text-decoration:underline;word-break:break-word;overflow-wrap:anywhere;`,
    className: 'pl-link',
  },
  img: { style: 'max-width:100%;height:auto;border:0;display:inline-block;vertical-align:middle;' },
  blockquote: {
    style: `margin:0 0 16px;padding:2px 0 2px 14px;border-left:4px solid ${RULE_COLOR};color:#57606a;`,
    className: 'pl-quote',
  },
  pre: {
    style: `margin:0 0 16px;padding:12px 14px;background-color:#f6f8fa;color:#1f2328;border-radius:6px;font-family:${MONOSPACE_STACK};font-size:13px;line-height:1.55;white-space:pre-wrap;word-wrap:break-word;word-break:break-word;overflow-wrap:anywhere;overflow-x:auto;max-width:100%;`,
    className: 'pl-code',
  },
  table: { style: 'border-collapse:collapse;margin:0;font-size:15px;line-height:1.5;' },
  th: {
    style: `border:1px solid ${RULE_COLOR};padding:6px 10px;vertical-align:top;font-weight:700;${WHOLE_WORDS}`,
    className: 'pl-cell',
  },
  td: {
    style: `border:1px solid ${RULE_COLOR};padding:6px 10px;vertical-align:top;${WHOLE_WORDS}`,
    className: 'pl-cell',
  },
  hr: { style: `border:0;border-top:1px solid ${RULE_COLOR};margin:24px 0;`, className: 'pl-rule' },
  figure: { style: 'margin:0 0 16px;' },
  figcaption: { style: 'font-size:14px;color:#57606a;', className: 'pl-quote' },
};
const INLINE_CODE_STYLE = `font-family:${MONOSPACE_STACK};font-size:0.9em;background-color:#eff1f3;color:#1f2328;padding:0.1em 0.35em;border-radius:4px;word-break:break-word;overflow-wrap:anywhere;`;
const CODE_IN_PRE_STYLE = 'font-family:inherit;font-size:inherit;background:none;padding:0;';

function addStyle(element: Element, style: string, className?: string): void {
  const existing = element.attribs.style?.trim();
  element.attribs.style = existing ? `${existing.replace(/;?$/, ';')}${style}` : style;
  if (className) element.attribs.class = element.attribs.class ? `${element.attribs.class} ${className}` : className;
}

function styleNodes(nodes: ChildNode[], insidePre: boolean, insideCell: boolean): void {
  for (const node of [...nodes]) {
    if (node.type !== 'tag') continue;
    const element = node as Element;
    if (element.name === 'code') {
      addStyle(element, insidePre ? CODE_IN_PRE_STYLE : INLINE_CODE_STYLE, insidePre ? undefined : 'pl-inline-code');
      if (insideCell) addStyle(element, WHOLE_WORDS);
    } else {
      const rule = ELEMENT_STYLES[element.name];
      if (rule) addStyle(element, rule.style, rule.className);
      // Links carry their own break-anywhere style for prose; in a cell the cell's rule wins.
      if (insideCell && element.name === 'a') addStyle(element, WHOLE_WORDS);
      // GFM column alignment arrives as `align`; inline CSS keeps it where attributes are ignored.
      if (element.name === 'th' || element.name === 'td')
        addStyle(
          element,
          `text-align:${/^(center|right)$/.test(element.attribs.align ?? '') ? element.attribs.align : 'left'};`,
        );
    }
    if (element.name === 'img') delete element.attribs.height;
    if (element.name === 'table') wrapInScrollBox(element);
    styleNodes(
      element.children,
      insidePre || element.name === 'pre',
      insideCell || element.name === 'td' || element.name === 'th',
    );
  }
}

/**
 * A wide table scrolls inside its own box instead of widening the whole email. `width:0` with
 * `min-width:100%` keeps the table's own width out of the layout tables around it (an overflow
 * box alone still widens a table cell to its content), while the box shows at full width.
 * Outlook on Windows (Word's engine) ignores overflow, width and min-width on a div, so there
 * the box is a plain block and the table shows whole at its natural width, with its inline
 * borders and padding: a simple fallback chosen over an MSO conditional ghost table, which
 * would send every post with a table through mjml's full compile (comments opt out of the
 * skeleton) for a desktop client that is rarely narrower than the table.
 */
function wrapInScrollBox(table: Element): void {
  if (!table.parent) return;
  const wrapper = parseDocument('<div style="overflow-x:auto;width:0;min-width:100%;margin:0 0 16px;"></div>')
    .children[0] as Element;
  DomUtils.replaceElement(table, wrapper);
  DomUtils.appendChild(wrapper, table);
}

/** The post's HTML with email styles inline; styling changes the parsed body it is given. */
function styleDocument(document: ReturnType<typeof parseDocument>): string {
  styleNodes(document.children, false, false);
  return DomUtils.getOuterHTML(document, { encodeEntities: 'utf8' });
}

/** A fragment of post HTML (a digest's excerpt) with the email styles a post body gets. */
export function styleFragment(html: string): string {
  return styleDocument(parseDocument(html));
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** Building a DateTimeFormat costs about a millisecond; posts of one site share a few. */
export function formatPostDate(date: Date, lang: string, timeZone: string | undefined): string {
  const key = `${lang}\u0000${timeZone ?? 'UTC'}`;
  let format = dateFormats.get(key);
  if (!format) {
    const options: Intl.DateTimeFormatOptions = { year: 'numeric', month: 'long', day: 'numeric' };
    try {
      format = new Intl.DateTimeFormat(lang, { ...options, timeZone: timeZone ?? 'UTC' });
    } catch {
      format = new Intl.DateTimeFormat('en', { ...options, timeZone: 'UTC' });
    }
    dateFormats.set(key, format);
  }
  return format.format(date);
}

/** The inbox preview line: the post's description, else the start of its text. */
function preheaderOf(post: Post, bodyText: string, fallback: string): string {
  const source =
    post.description?.trim() ||
    bodyText
      .replace(/^#+ .*$/gm, '')
      .replace(/\s+/g, ' ')
      .trim();
  const characters = [...source];
  if (characters.length === 0) return fallback;
  return characters.length > 140 ? `${characters.slice(0, 139).join('')}…` : source;
}

interface EmailParts {
  post: Post;
  site: SiteConfig;
  settings: Settings;
  bodyHtml: string;
  truncated: boolean;
  preheader: string;
  /** The post's date as the reader's language writes it, shown in both parts. */
  dateLine: string;
  /** With tracking: the hidden link (and open pixel) after the body, in the HTML part only. */
  trailer: string;
}

/**
 * How a per-post value reaches the MJML: by default the value itself; when compiling a skeleton,
 * a marker that the cached HTML keeps in its place (`raw` values are markup, the rest is escaped).
 */
type Slot = (name: string, value: string, raw?: boolean) => string;
const valueItself: Slot = (_name, value) => value;

/**
 * The final MJML of a post email. Language strings and which optional blocks appear fix the
 * shape; everything else goes through `slot`, so the skeleton and the full MJML are one text.
 */
function buildMjml(
  { post, site, settings, bodyHtml, truncated, preheader, dateLine, trailer }: EmailParts,
  slot: Slot = valueItself,
): string {
  const strings = stringsFor(post.lang);
  const siteTitle = site.title || settings.siteTitle;
  const siteUrl = `${site.url}${site.baseurl}/`;
  const webUrl = slot('webUrl', post.url);
  const image = post.image
    ? fillTemplate(POST_IMAGE_MJML, { src: slot('imageSource', post.image), alt: slot('title', post.title) })
    : '';
  const continueReading = truncated
    ? fillTemplate(CONTINUE_READING_MJML, {
        webUrl,
        truncatedNotice: strings.truncatedNotice,
        continueReading: strings.continueReading,
      })
    : '';
  return fillTemplate(POST_EMAIL_MJML, {
    lang: post.lang,
    title: slot('title', post.title),
    fontStack: FONT_STACK,
    preheader: slot('preheader', preheader),
    siteUrl: slot('siteUrl', siteUrl),
    siteTitle: slot('siteTitle', siteTitle),
    webUrl,
    viewOnWeb: strings.viewOnWeb,
    dateLine: slot('dateLine', dateLine),
    image,
    body: slot('body', bodyHtml + trailer, true),
    continueReading,
    footerLang: FOOTER_WORD_PLACEHOLDERS.lang,
    whyYouReceive: `${FOOTER_WORD_PLACEHOLDERS.whyBefore}${slot('siteTitle', siteTitle)}${FOOTER_WORD_PLACEHOLDERS.whyAfter}`,
    postalAddress: slot('postalAddress', settings.postalAddress),
    unsubscribeUrl: UNSUBSCRIBE_URL_PLACEHOLDER,
    unsubscribe: FOOTER_WORD_PLACEHOLDERS.unsubscribe,
    preferencesUrl: PREFERENCES_URL_PLACEHOLDER,
    manageSubscription: FOOTER_WORD_PLACEHOLDERS.manageSubscription,
    footerViewOnWeb: FOOTER_WORD_PLACEHOLDERS.viewOnWeb,
  });
}

/**
 * mjml costs a few milliseconds per post, yet it only lays out the template: the text inside an
 * mj-text, mj-raw or mj-title and the values of plain attributes pass through it verbatim. So
 * each shape of email (language, image or not, cut or not) is compiled once with markers where
 * the post's values go, and a post's HTML is the compiled skeleton with its escaped values put
 * back. test/unit/email-skeleton.test.ts holds this to byte-identical output against a full
 * compile; any value that mjml could read differently takes the full compile instead.
 */
interface Skeleton {
  /** The compiled HTML split at the markers: literal, slot, literal, slot, …, literal. */
  literals: string[];
  slots: string[];
}

const SLOT_MARKER = /PUSHLETTERSLOT_([a-zA-Z]+)_/g;
const markerFor = (name: string) => `PUSHLETTERSLOT_${name}_`;

/**
 * Markup that mjml's parser does not pass over as plain content: its own tags, tags whose text
 * htmlparser2 reads raw (and could hide the closing </mj-text>), comments, CDATA and processing
 * instructions (mjml rewrites Outlook conditional comments). A body with any takes the full compile.
 */
const MARKUP_MJML_READS =
  /<[!?]|<\/?(?:mj|script|style|title|textarea|xmp|iframe|noembed|noframes|noscript|plaintext|svg|math|html|head|body)/i;

/** How many shapes to keep; a process sees a handful (languages × image × cut). */
const SKELETON_CACHE_LIMIT = 64;
const skeletons = new Map<string, Promise<Skeleton | undefined>>();

/** Empties the cache, so the next post of each shape compiles its skeleton (the benchmark's cold case). */
export function forgetEmailSkeletons(): void {
  skeletons.clear();
}

const shapeOf = (parts: EmailParts) =>
  `${parts.post.lang}\u0000${parts.post.image ? 'image' : ''}\u0000${parts.truncated ? 'cut' : ''}`;

async function compileSkeleton(parts: EmailParts): Promise<Skeleton | undefined> {
  const names = new Set<string>();
  const source = buildMjml(parts, (name) => {
    names.add(name);
    return markerFor(name);
  });
  const { html, warnings } = await compileMjml(source);
  // Warnings carry line numbers that move with a post's values: only a clean template is reused.
  if (warnings.length > 0) return undefined;
  const pieces = html.split(SLOT_MARKER);
  const slots = pieces.filter((_piece, index) => index % 2 === 1);
  if ([...names].some((name) => !slots.includes(name)) || slots.some((name) => !names.has(name))) return undefined;
  return { literals: pieces.filter((_piece, index) => index % 2 === 0), slots };
}

function skeletonFor(parts: EmailParts): Promise<Skeleton | undefined> {
  const shape = shapeOf(parts);
  let skeleton = skeletons.get(shape);
  if (!skeleton) {
    if (skeletons.size >= SKELETON_CACHE_LIMIT) skeletons.clear();
    // A failed compile is not kept: the post falls back to the full compile, which reports it.
    skeleton = compileSkeleton(parts).catch(() => {
      skeletons.delete(shape);
      return undefined;
    });
    skeletons.set(shape, skeleton);
  }
  return skeleton;
}

/**
 * The text each slot holds in the compiled HTML, or undefined when mjml might not pass a value
 * through as is: it trims the whole content of a tag (the body is exactly that, so it is trimmed
 * here too; any other value with outer spaces takes the full compile) and reads the attribute
 * values `true` and `false` as booleans.
 */
function slotTexts(parts: EmailParts): Map<string, string> | undefined {
  const texts = new Map<string, string>();
  let verbatim = true;
  buildMjml(parts, (name, value, raw) => {
    if (raw) {
      if (MARKUP_MJML_READS.test(value)) verbatim = false;
      texts.set(name, value.trim());
    } else {
      const escaped = escapeHtml(value);
      if (escaped !== escaped.trim() || escaped === 'true' || escaped === 'false') verbatim = false;
      texts.set(name, escaped);
    }
    return '';
  });
  return verbatim ? texts : undefined;
}

interface CompiledEmail {
  html: string;
  warnings: Warning[];
}

/** The post's email HTML from mjml on the full MJML: the reference the skeleton must match. */
const compileDirectly = (parts: EmailParts): Promise<CompiledEmail> => compileMjml(buildMjml(parts));

/** The post's email HTML from its shape's cached skeleton, else from a full compile. */
async function compileFromSkeleton(parts: EmailParts): Promise<CompiledEmail> {
  const texts = slotTexts(parts);
  const skeleton = texts && (await skeletonFor(parts));
  if (!texts || !skeleton) return compileDirectly(parts);
  let html = skeleton.literals[0]!;
  for (let index = 0; index < skeleton.slots.length; index++)
    html += texts.get(skeleton.slots[index]!)! + skeleton.literals[index + 1]!;
  return { html, warnings: [] };
}

function plainText(parts: EmailParts, bodyText: string): string {
  const { post, site, settings, truncated, dateLine } = parts;
  const strings = stringsFor(post.lang);
  const siteTitle = site.title || settings.siteTitle;
  const lines = [
    `${siteTitle} (${site.url}${site.baseurl}/)`,
    '',
    post.title,
    dateLine,
    '',
    `${strings.viewOnWeb}: ${post.url}`,
    '',
    bodyText,
    '',
  ];
  if (truncated) lines.push(strings.truncatedNotice, `${strings.continueReading}: ${post.url}`, '');
  lines.push(
    '-- ',
    `${FOOTER_WORD_PLACEHOLDERS.whyBefore}${siteTitle}${FOOTER_WORD_PLACEHOLDERS.whyAfter}`,
    settings.postalAddress,
    `${FOOTER_WORD_PLACEHOLDERS.unsubscribe}: ${UNSUBSCRIBE_URL_PLACEHOLDER}`,
    `${FOOTER_WORD_PLACEHOLDERS.manageSubscription}: ${PREFERENCES_URL_PLACEHOLDER}`,
    '',
  );
  return lines.join('\n');
}

const byteLength = (value: string) => Buffer.byteLength(value, 'utf8');

/**
 * `tracking`: the post's links go through the counting redirect (tracking `aggregate`, for the
 * real send only: previews and test copies link straight to the targets, see README "Tracking").
 */
export async function renderEmail(
  post: Post,
  site: SiteConfig,
  settings: Settings,
  tracking?: LinkTracking,
): Promise<RenderedEmail> {
  return (await renderEmailWith(post, site, settings, compileFromSkeleton, tracking)).email;
}

/** The email and the final MJML whose full compile it equals (the benchmark compiles that bare to compare). */
export function renderEmailWithSource(
  post: Post,
  site: SiteConfig,
  settings: Settings,
): Promise<{ email: RenderedEmail; mjml: string }> {
  return renderEmailAndSource(post, site, settings, compileFromSkeleton);
}

/** The email as mjml compiles the full MJML of each post, without the skeleton cache. */
export function renderEmailDirectly(
  post: Post,
  site: SiteConfig,
  settings: Settings,
): Promise<{ email: RenderedEmail; mjml: string }> {
  return renderEmailAndSource(post, site, settings, compileDirectly);
}

async function renderEmailAndSource(
  post: Post,
  site: SiteConfig,
  settings: Settings,
  compile: (parts: EmailParts) => Promise<CompiledEmail>,
): Promise<{ email: RenderedEmail; mjml: string }> {
  const { email, parts } = await renderEmailWith(post, site, settings, compile);
  return { email, mjml: buildMjml(parts) };
}

async function renderEmailWith(
  post: Post,
  site: SiteConfig,
  settings: Settings,
  compile: (parts: EmailParts) => Promise<CompiledEmail>,
  tracking?: LinkTracking,
): Promise<{ email: RenderedEmail; parts: EmailParts }> {
  const strings = stringsFor(post.lang);
  // Only the first HTML_SIZE_BUDGET bytes are sent: a longer body is cut to a few times that
  // before the steps whose memory grows with it (a 1 MB table took over 1 GB).
  const allBlocks = byteLength(post.bodyHtml) > PRE_CUT_BYTES ? topLevelBlocks(post.bodyHtml) : undefined;
  const keptHtml = allBlocks ? joinBlocks(allBlocks, blocksWithin(allBlocks, PRE_CUT_BYTES)) : post.bodyHtml;
  // Rewritten before anything is measured or cut, so the cut counts the redirect URLs' length.
  const tracked = tracking === undefined ? undefined : trackLinks(keptHtml, post, tracking);
  const bodyHtml = tracked?.html ?? keptHtml;
  // One parse serves both: the text is read before styling changes the document.
  const body = parseDocument(bodyHtml);
  const fullText = documentToText(body);
  const styledBody = styleDocument(body);
  const preheader = preheaderOf(post, fullText, strings.newPostFrom(site.title || settings.siteTitle));
  const dateLine = formatPostDate(post.date, post.lang, site.timezone);
  const parts: EmailParts = {
    post,
    site,
    settings,
    bodyHtml: styledBody,
    truncated: false,
    preheader,
    dateLine,
    trailer: tracked?.trailer ?? '',
  };

  let { html, warnings } = await compile(parts);
  let bodyText = fullText;
  let cut: { kept: number; of: number } | undefined;

  if (allBlocks || byteLength(html) > HTML_SIZE_BUDGET) {
    const blocks = topLevelBlocks(styledBody);
    const sourceBlocks = topLevelBlocks(bodyHtml);
    // The template passes the body through unchanged, so everything else is a fixed overhead.
    const overhead = byteLength(html) - byteLength(styledBody);
    let budget = HTML_SIZE_BUDGET - overhead - 2048;
    for (let attempt = 0; attempt < 5; attempt++) {
      const kept = blocksWithin(blocks, budget);
      parts.bodyHtml = joinBlocks(blocks, kept);
      parts.truncated = true;
      ({ html, warnings } = await compile(parts));
      bodyText = htmlToText(joinBlocks(sourceBlocks, Math.min(kept, sourceBlocks.length)));
      cut = { kept, of: allBlocks?.length ?? blocks.length };
      if (byteLength(html) <= HTML_SIZE_BUDGET || kept === 0) break;
      budget -= byteLength(html) - HTML_SIZE_BUDGET + 1024;
    }
  }

  const allWarnings = [...post.warnings, ...warnings];
  if (cut) {
    allWarnings.push({
      code: 'EMAIL_TRUNCATED',
      message: `the post is too long for one email: it keeps the first ${cut.kept} of ${cut.of} paragraphs and blocks (${Math.round(byteLength(html) / 1024)} KB of HTML; Gmail clips over 102 KB, hiding the unsubscribe link), then links to the rest with "${strings.continueReading}"`,
    });
  }
  const email: RenderedEmail = {
    postId: post.id,
    subject: cleanHeaderText(post.title),
    lang: post.lang,
    html,
    text: plainText(parts, bodyText),
    webUrl: post.url,
    truncated: parts.truncated,
    footerWords: footerWords(post.lang),
    warnings: allWarnings,
    ...(tracked === undefined ? {} : { links: tracked.links }),
  };
  return { email, parts };
}

/** The footer's words in every language the newsletter speaks; a reader of none gets the post's. */
export function footerWords(postLang: string): LanguageValues {
  const byLanguage = Object.fromEntries(
    Object.entries(EMAIL_STRINGS).map(([lang, strings]) => {
      // The site title stays a value of the post (escaped once, like everywhere else it appears).
      const [whyBefore = '', whyAfter = ''] = strings.whyYouReceive('\u0000').split('\u0000');
      return [
        lang,
        {
          [FOOTER_WORD_PLACEHOLDERS.lang]: lang,
          [FOOTER_WORD_PLACEHOLDERS.whyBefore]: whyBefore,
          [FOOTER_WORD_PLACEHOLDERS.whyAfter]: whyAfter,
          [FOOTER_WORD_PLACEHOLDERS.unsubscribe]: strings.unsubscribe,
          [FOOTER_WORD_PLACEHOLDERS.manageSubscription]: strings.manageSubscription,
          [FOOTER_WORD_PLACEHOLDERS.viewOnWeb]: strings.viewOnWeb,
        },
      ];
    }),
  );
  return { fallback: emailLanguageOf(postLang), byLanguage };
}

/**
 * The email's parts with placeholder values put in (HTML-escaped in the html), as a copy shows
 * them: `render`'s preview files, and tests that look at a rendered email as a reader would.
 */
export function fillEmail(
  email: Pick<RenderedEmail, 'html' | 'text'>,
  values: Record<string, string>,
): { html: string; text: string } {
  const fill = (part: string, encode: (value: string) => string) =>
    Object.entries(values).reduce(
      (filled, [placeholder, value]) => filled.replaceAll(placeholder, encode(value)),
      part,
    );
  return { html: fill(email.html, escapeHtml), text: fill(email.text, String) };
}

/** Room for the body before it is styled and compiled, well over what the cut keeps. */
const PRE_CUT_BYTES = 3 * HTML_SIZE_BUDGET;

function joinBlocks(blocks: Block[], count: number): string {
  return blocks
    .slice(0, count)
    .map((block) => block.html)
    .join('');
}
