import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { InvalidInputError } from '../commons/errors';
import { parseJekyllDate, zonedTime } from './dates';
import { decodePostSource, parseFrontMatter, splitFrontMatter } from './frontmatter';
import type { IncludedFiles } from './includes';
import { isChinese, resolveLanguage } from './language';
import { checkMarkdownNesting } from './limits';
import { absoluteLink, type LinkBase } from './links';
import {
  fillTextVariablesEverywhere,
  hasBracelessKramdown,
  highlightToFences,
  type JekyllEnvironment,
  protectCode,
  renderLiquid,
  restoreCode,
} from './liquid';
import { markdownToHtml, removeKramdownSyntax } from './markdown';
import { permalinkTemplate, postPath, titleizeSlug } from './permalink';
import { sanitizeHtml } from './sanitize';
import { siteUrl } from './site';
import type { Post, SiteConfig, Warning } from './types';

export interface ParsePostInput {
  /** Path of the post: on disk for the CLI, inside the repository for the webhook. */
  path: string;
  source: Uint8Array | string;
  site: SiteConfig;
  /** The date of a draft (Jekyll uses the file's time); defaults to the current time. */
  now?: Date;
  /**
   * `_includes/` files read where the post came from (render and publish: the folder; the
   * webhook: GitHub), within the same limits: when given, the only includes there are, so the
   * preview and the sent email agree.
   */
  includes?: IncludedFiles;
}

const MARKDOWN_EXTENSIONS = 'md|markdown|mkd|mkdn|mdown';
/** Jekyll's `DATE_FILENAME_MATCHER`, limited to Markdown. */
const DATED_NAME = new RegExp(`^(\\d{4})-(\\d{1,2})-(\\d{1,2})-(.+)\\.(?:${MARKDOWN_EXTENSIONS})$`, 'i');
const DATELESS_NAME = new RegExp(`^(.+)\\.(?:${MARKDOWN_EXTENSIONS})$`, 'i');

/** Longest description taken from the first paragraph when the front matter has none. */
const EXCERPT_LENGTH = 240;

interface PostName {
  id: string;
  slug: string;
  draft: boolean;
  /** The file name's date (its midnight in the site's zone is the post's date without one); undefined for drafts. */
  day?: { year: number; month: number; day: number };
}

function pathSegments(path: string): string[] {
  return path.split(/[\\/]+/).filter(Boolean);
}

/** Reads `YYYY-MM-DD-slug.md` (posts) or `slug.md` (drafts) like Jekyll does. */
export function readPostName(path: string): PostName {
  const name = basename(path);
  const draft = pathSegments(path).includes('_drafts');
  const dated = DATED_NAME.exec(name);
  if (dated) {
    const [, year, month, day, slug] = dated;
    const fields = { year: Number(year), month: Number(month), day: Number(day) };
    const probe = new Date(Date.UTC(fields.year, fields.month - 1, fields.day));
    if (probe.getUTCMonth() !== fields.month - 1 || probe.getUTCDate() !== fields.day) {
      throw new InvalidInputError(
        'POST_BAD_NAME',
        `${path}: ${year}-${month}-${day} in the file name is not a real date; rename the file with the post's date as YYYY-MM-DD`,
      );
    }
    const id = draft ? `draft-${slug}` : `${year}-${month!.padStart(2, '0')}-${day!.padStart(2, '0')}-${slug}`;
    return { id, slug: slug!, draft, day: fields };
  }
  const dateless = DATELESS_NAME.exec(name);
  if (draft && dateless) return { id: `draft-${dateless[1]}`, slug: dateless[1]!, draft };
  if (draft) {
    throw new InvalidInputError(
      'POST_BAD_NAME',
      `${path}: drafts must be Markdown files (.md or .markdown); rename it, for example ${name.replace(/\.[^.]*$/, '')}.md`,
    );
  }
  const suggestion = `YYYY-MM-DD-${(dateless?.[1] ?? name.replace(/\.[^.]*$/, '')).replace(/^\d{4}-\d{1,2}-\d{1,2}-?/, '') || 'title'}.md`;
  throw new InvalidInputError(
    'POST_BAD_NAME',
    `${path}: the file name is not YYYY-MM-DD-slug.md, so Jekyll would not publish it as a post; rename it to ${suggestion} in _posts/`,
  );
}

function asStringList(value: unknown, splitStrings: boolean): string[] {
  if (value === undefined || value === null || value === '') return [];
  if (Array.isArray(value))
    return value.filter((item) => item !== null && item !== undefined).map((item) => String(item));
  const text = String(value);
  return splitStrings ? text.split(/\s+/).filter(Boolean) : [text];
}

/**
 * Jekyll's categories: folders above `_posts/` (`news/_posts/` → news), then `categories`
 * (a space-separated string is several), then `category` (one, even with spaces).
 */
function categoriesOf(frontMatter: Record<string, unknown>, path: string, site: SiteConfig): string[] {
  const fromPath: string[] = [];
  if (site.root !== undefined) {
    const inside = relative(resolve(site.root), resolve(path));
    if (!inside.startsWith('..') && !isAbsolute(inside)) {
      const segments = inside.split(sep);
      const postsAt = segments.findIndex((segment) => segment === '_posts' || segment === '_drafts');
      // With `collections_dir: my_collections`, posts live in my_collections/_posts: not a category.
      const collectionsDir =
        textValue(site.data.collections_dir)
          ?.replace(/^\/+|\/+$/g, '')
          .split('/') ?? [];
      const above = segments.slice(0, Math.max(postsAt, 0));
      const isCollectionsDir =
        collectionsDir.length > 0 && collectionsDir.every((segment, index) => above[index] === segment);
      if (postsAt > 0) fromPath.push(...above.slice(isCollectionsDir ? collectionsDir.length : 0));
    }
  }
  return [
    ...new Set([
      ...fromPath,
      ...asStringList(frontMatter.categories, true),
      ...asStringList(frontMatter.category, false),
    ]),
  ];
}

function tagsOf(frontMatter: Record<string, unknown>): string[] {
  return [...new Set([...asStringList(frontMatter.tags, true), ...asStringList(frontMatter.tag, false)])];
}

function textValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/** Where a post lives on its site, computed from its file and front matter alone. */
interface PostLocation {
  path: string;
  date: Date;
  categories: string[];
}

function locatePost(
  file: string,
  frontMatter: Record<string, unknown>,
  site: SiteConfig,
  name: PostName,
  now: Date,
): PostLocation {
  const date =
    frontMatter.date !== undefined && frontMatter.date !== null && frontMatter.date !== ''
      ? parseJekyllDate(frontMatter.date, site.timezone)
      : name.day
        ? zonedTime(name.day, site.timezone)
        : now;
  if (date === undefined) {
    throw new InvalidInputError(
      'POST_BAD_FRONT_MATTER',
      `${file}: "date: ${String(frontMatter.date)}" is not a date; write it as YYYY-MM-DD HH:MM:SS +0800, or remove it to use the date in the file name`,
    );
  }
  const categories = categoriesOf(frontMatter, file, site);
  const path = postPath({
    fileSlug: name.slug,
    slugOverride: textValue(frontMatter.slug),
    categories,
    date,
    timeZone: site.timezone,
    permalink: textValue(frontMatter.permalink),
    sitePermalink: site.permalink,
  });
  return { path, date, categories };
}

/**
 * The posts of a site by file name, read once per site folder: `{% post_url %}` in a folder of
 * 200 posts must not walk the folder 200 times.
 */
const siteFiles = new Map<string, string[]>();

function postFilesOf(root: string, refresh = false): string[] {
  const key = resolve(root);
  const cached = siteFiles.get(key);
  if (cached && !refresh) return cached;
  const found: string[] = [];
  const walk = (folder: string, depth: number) => {
    if (depth > 6) return;
    let entries: string[];
    try {
      entries = readdirSync(folder);
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry === 'node_modules' || entry === '_site' || entry === '.git' || entry === 'vendor') continue;
      const full = join(folder, entry);
      let isFolder = false;
      try {
        isFolder = statSync(full).isDirectory();
      } catch {
        continue;
      }
      if (isFolder) walk(full, depth + 1);
      else if (pathSegments(full).includes('_posts') && DATED_NAME.test(entry)) found.push(full);
    }
  };
  walk(key, 0);
  siteFiles.set(key, found);
  return found;
}

function findPostFile(root: string, name: string): string | undefined {
  const wanted = name.replace(/\.(md|markdown|mkd|mkdn|mdown)$/i, '');
  const matches = (file: string) => {
    const withoutExtension = file
      .replace(/\.[^./\\]+$/, '')
      .split(sep)
      .join('/');
    return withoutExtension.endsWith(`/${wanted}`);
  };
  return postFilesOf(root).find(matches) ?? postFilesOf(root, true).find(matches);
}

/**
 * URLs of other posts by file, per site: in a folder of posts that link to each other, each
 * linked post would otherwise be read and its YAML parsed once per post linking to it.
 */
const postUrls = new WeakMap<SiteConfig, Map<string, string | undefined>>();

/** URL path (with `baseurl`) of another post of the site, read from its file. */
function urlOfPostFile(file: string, site: SiteConfig, now: Date): string | undefined {
  let version: string;
  try {
    const stats = statSync(file);
    version = `${file}\u0000${stats.mtimeMs}\u0000${stats.size}`;
  } catch {
    return undefined;
  }
  let known = postUrls.get(site);
  if (!known) postUrls.set(site, (known = new Map()));
  if (known.has(version)) return known.get(version);
  let url: string | undefined;
  try {
    url = site.baseurl + locatePost(file, readFrontMatter(file), site, readPostName(file), now).path;
  } catch {
    url = undefined;
  }
  known.set(version, url);
  return url;
}

/** The URL a post will have when only its name is known (no site folder, or a missing post). */
function guessPostUrl(name: string, site: SiteConfig, now: Date, warn: (warning: Warning) => void): string | undefined {
  const base = basename(name).replace(/\.(md|markdown)$/i, '');
  let postName: PostName;
  try {
    postName = readPostName(`_posts/${base}.md`);
  } catch {
    return undefined;
  }
  const location = locatePost(`_posts/${base}.md`, {}, { ...site, root: undefined }, postName, now);
  if (permalinkTemplate(site.permalink).includes(':categories')) {
    warn({
      code: 'POST_URL_GUESSED',
      message: `the link to ${base} leaves out its categories (its file is not available); check that the link works on the blog`,
    });
  }
  return site.baseurl + location.path;
}

function insideFolder(folder: string, target: string): boolean {
  const inside = relative(resolve(folder), resolve(target));
  return !inside.startsWith('..') && !isAbsolute(inside);
}

function readTextFile(file: string): string | undefined {
  try {
    return existsSync(file) && statSync(file).isFile() ? readFileSync(file, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A file of the site for `{% include %}`, unless a symbolic link on its way leads out of the
 * site: a repository can hold a link to /etc/passwd or the server's secrets.
 */
function readSiteFile(root: string, file: string, tag: string, warn: (warning: Warning) => void): string | undefined {
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    return undefined;
  }
  if (!insideFolder(realpathSync(root), real)) {
    warn({
      code: 'LIQUID_INCLUDE_OUTSIDE_SITE',
      message: `{% ${tag} %} is a symbolic link to a file outside the site; pushletter reads only the site's own files, so the email leaves it out`,
    });
    return undefined;
  }
  return readTextFile(real);
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The front matter of another file of the site; throws when it cannot be read or parsed. */
function readFrontMatter(file: string): Record<string, unknown> {
  const text = decodePostSource(file, readFileSync(file));
  return parseFrontMatter(file, splitFrontMatter(file, text).frontMatterText);
}

/** The front matter of another file of the site, or nothing when it has none or cannot be read. */
function frontMatterOfFile(file: string): Record<string, unknown> {
  try {
    return readFrontMatter(file);
  } catch {
    return {};
  }
}

/** URL path (with `baseurl`) of a page or file of the site, as Jekyll's `{% link %}` gives it. */
function urlOfSiteFile(target: string, site: SiteConfig): string {
  const clean = target.replace(/^\/+/, '');
  const page = /^(.*?)(index)?\.(md|markdown|html)$/i.exec(clean);
  if (!page) return `${site.baseurl}/${clean}`;
  // A missing or unreadable file has no front matter, hence no permalink.
  if (site.root !== undefined) {
    const permalink = textValue(frontMatterOfFile(join(site.root, clean)).permalink);
    if (permalink) return `${site.baseurl}${permalink.startsWith('/') ? '' : '/'}${permalink}`;
  }
  if (page[2]) return `${site.baseurl}/${page[1]}`;
  // Jekyll's `add_permalink_suffix`: pages follow the trailing part of the site's permalink.
  const template = permalinkTemplate(site.permalink);
  const suffix = template.endsWith('/') ? '/' : template.endsWith(':output_ext') ? '.html' : '';
  return `${site.baseurl}/${page[1]}${suffix}`;
}

function relativeUrl(site: SiteConfig, path: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(path) || path.startsWith('//')) return path;
  return `${site.baseurl}${path.startsWith('/') ? '' : '/'}${path}`;
}

function excerptOf(html: string): string | undefined {
  const paragraph = /<p>([\s\S]*?)<\/p>/.exec(html)?.[1];
  if (paragraph === undefined) return undefined;
  const text = paragraph
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
  if (text === '') return undefined;
  const characters = [...text];
  return characters.length > EXCERPT_LENGTH
    ? `${characters
        .slice(0, EXCERPT_LENGTH - 1)
        .join('')
        .trimEnd()}…`
    : text;
}

/**
 * Turns a Jekyll post into what the email template needs, as the blog would show it. Reads
 * other files of the site only when `site.root` is set; without it (the webhook) links to other
 * posts are computed from their names.
 */
export async function parsePost(input: ParsePostInput): Promise<Post> {
  const { path: file, site } = input;
  const now = input.now ?? new Date();
  const name = readPostName(file);
  const text = decodePostSource(file, input.source);
  const split = splitFrontMatter(file, text);
  const frontMatter = parseFrontMatter(file, split.frontMatterText);
  if (split.body.trim() === '') {
    throw new InvalidInputError(
      'POST_EMPTY_BODY',
      `${file}: the post has front matter but no text after it; write the post below the closing "---" line`,
    );
  }

  const warnings: Warning[] = [];
  const warn = (warning: Warning) => {
    if (!warnings.some((existing) => existing.code === warning.code && existing.message === warning.message))
      warnings.push(warning);
  };

  const location = locatePost(file, frontMatter, site, name, now);
  const url = siteUrl(site, location.path);
  const title = textValue(frontMatter.title) ?? titleizeSlug(name.slug);
  const tags = tagsOf(frontMatter);
  const lang = resolveLanguage(frontMatter.lang, site.lang, `${title}\n${split.body}`);
  const chinese = isChinese(lang);
  const sourceFile = site.root !== undefined ? resolve(file) : undefined;

  const linkBase: LinkBase = {
    site,
    postUrl: url,
    sourceFile,
    postFileUrl: (target) => {
      const path = urlOfPostFile(target, site, now);
      return path === undefined ? undefined : new URL(`${site.url}${path}`).href;
    },
    pageFileUrl: (sitePath) => new URL(`${site.url}${urlOfSiteFile(sitePath, site)}`).href,
  };

  const page: Record<string, unknown> = {
    ...frontMatter,
    title,
    date: location.date,
    slug: name.slug,
    categories: location.categories,
    tags,
    url: location.path,
    id: location.path.replace(/\.html$/, '').replace(/\/$/, ''),
    path:
      site.root !== undefined && sourceFile !== undefined ? relative(site.root, sourceFile).split(sep).join('/') : file,
    draft: name.draft,
    lang,
  };
  const siteVariables: Record<string, unknown> = {
    ...site.data,
    url: site.url,
    baseurl: site.baseurl,
    title: site.title,
    description: site.description,
    time: now,
    posts: [],
    pages: [],
    categories: {},
    tags: {},
  };

  const watchVideo = (provider: string | undefined) =>
    chinese ? `▶ 在 ${provider} 上观看视频` : `▶ Watch the video on ${provider}`;
  const environment: JekyllEnvironment = {
    file,
    site: siteVariables,
    page,
    timeZone: site.timezone,
    warn,
    linkText: ({ kind, provider, url: target }) => {
      if (kind === 'video') return watchVideo(provider);
      if (kind === 'code') return chinese ? `在 ${provider} 上查看代码` : `View the code on ${provider}`;
      return target;
    },
    postUrl: (postName) => {
      if (site.root !== undefined) {
        const found = findPostFile(site.root, postName);
        const path = found === undefined ? undefined : urlOfPostFile(found, site, now);
        if (path !== undefined) return path;
        warn({
          code: 'POST_URL_MISSING',
          message: `{% post_url ${postName} %} names no post in _posts/; the link may be broken on the blog too`,
        });
      }
      const guessed = guessPostUrl(postName, site, now, warn);
      if (guessed === undefined)
        warn({
          code: 'POST_URL_INVALID',
          message: `{% post_url ${postName} %} is not a post name (YYYY-MM-DD-slug); the link was left out`,
        });
      return guessed;
    },
    link: (target) => {
      const clean = target.replace(/^\/+/, '');
      const postLike = pathSegments(clean).includes('_posts');
      if (site.root !== undefined) {
        const full = join(site.root, clean);
        if (insideFolder(site.root, full) && isFile(full)) {
          if (postLike) return urlOfPostFile(full, site, now) ?? guessPostUrl(clean, site, now, warn);
          return urlOfSiteFile(clean, site);
        }
        warn({
          code: 'LINK_MISSING',
          message: `{% link ${target} %} names a file that is not in the site; the link may be broken on the blog too`,
        });
      }
      return postLike ? guessPostUrl(clean, site, now, warn) : urlOfSiteFile(clean, site);
    },
    include: (includeName) => {
      if (input.includes !== undefined)
        return Object.hasOwn(input.includes, includeName) ? input.includes[includeName] : undefined;
      if (site.root === undefined) return undefined;
      const includes = join(site.root, '_includes');
      const full = join(includes, includeName);
      return insideFolder(includes, full) ? readSiteFile(site.root, full, `include ${includeName}`, warn) : undefined;
    },
    includeRelative: (includeName) => {
      if (site.root === undefined || sourceFile === undefined) return undefined;
      const full = join(dirname(sourceFile), includeName);
      return insideFolder(site.root, full)
        ? readSiteFile(site.root, full, `include_relative ${includeName}`, warn)
        : undefined;
    },
    relativeUrl: (path) => relativeUrl(site, path),
    absoluteUrl: (path) => {
      const relativePath = relativeUrl(site, path);
      return relativePath.startsWith('/') ? `${site.url}${relativePath}` : relativePath;
    },
  };

  const fenced = highlightToFences(split.body);
  // Before any Markdown lexing: finding the code already recurses into quotes and lists.
  checkMarkdownNesting(fenced, file);
  // Filling text variables alone skips removeKramdownSyntax, so footnotes and abbreviations take the full path.
  let markdown = hasBracelessKramdown(fenced) ? undefined : fillTextVariablesEverywhere(fenced, environment);
  if (markdown === undefined) {
    const { text: protectedText, regions } = protectCode(fenced);
    const liquidOutput = renderLiquid(removeKramdownSyntax(protectedText), environment);
    markdown = restoreCode(liquidOutput, regions, { site: siteVariables, page });
  }
  // Liquid may have written nesting of its own.
  if (markdown !== fenced) checkMarkdownNesting(markdown, file);
  const kramdown = site.data.kramdown as Record<string, unknown> | undefined;
  const toSafeHtml = (source: string) =>
    sanitizeHtml(markdownToHtml(source, { hardWrap: kramdown?.hard_wrap === true }), {
      file,
      resolveUrl: (raw, kind) => absoluteLink(raw, kind, linkBase),
      embedLinkText: ({ provider, title: embedTitle, host }) => {
        if (provider) {
          const watch = watchVideo(provider);
          return embedTitle ? `${watch}${chinese ? '：' : ': '}${embedTitle}` : watch;
        }
        return chinese ? `查看嵌入的内容（${host}）` : `Open the embedded content (${host})`;
      },
      warn,
    }).trim();
  const bodyHtml = toSafeHtml(markdown);
  const excerptMarkdown = excerptSource(frontMatter, markdown, site);
  const excerptHtml = excerptMarkdown === markdown ? bodyHtml : toSafeHtml(excerptMarkdown);

  const imageValue = frontMatter.image;
  const imagePath =
    textValue(imageValue) ??
    (imageValue !== null && typeof imageValue === 'object'
      ? (textValue((imageValue as Record<string, unknown>).path) ??
        textValue((imageValue as Record<string, unknown>).url))
      : undefined);
  // jekyll-seo-tag reads a front-matter image relative to the site, not to the post.
  const image =
    imagePath === undefined
      ? undefined
      : absoluteLink(/^([a-z][a-z0-9+.-]*:|\/)/i.test(imagePath) ? imagePath : `/${imagePath}`, 'image', {
          ...linkBase,
          sourceFile: undefined,
        });

  let skipReason: string | undefined;
  if (frontMatter.published === false) skipReason = 'published: false in the front matter (Jekyll does not publish it)';
  else if (frontMatter.newsletter === false) skipReason = 'newsletter: false in the front matter';

  return {
    id: name.id,
    sourcePath: file,
    slug: name.slug,
    title,
    description: textValue(frontMatter.description) ?? textValue(frontMatter.excerpt) ?? excerptOf(bodyHtml),
    date: location.date,
    categories: location.categories,
    tags,
    lang,
    url,
    image,
    draft: name.draft,
    skipReason,
    bodyHtml,
    excerptHtml,
    frontMatter,
    warnings,
  };
}

/**
 * Jekyll's excerpt source: the front matter's `excerpt`, else the post (after Liquid) up to the
 * first `excerpt_separator` (the post's, else the site's, else a blank line), line breaks read
 * alike whether the file has CRLF or LF. An empty separator means the whole post, as in Jekyll.
 */
export function excerptSource(frontMatter: Record<string, unknown>, markdown: string, site: SiteConfig): string {
  const given = frontMatter.excerpt;
  if (typeof given === 'string' || typeof given === 'number') return String(given);
  const separatorValue = frontMatter.excerpt_separator ?? site.data.excerpt_separator;
  const separator = typeof separatorValue === 'string' ? separatorValue.replace(/\r\n?/g, '\n') : '\n\n';
  if (separator === '') return markdown;
  const text = markdown.replace(/\r\n?/g, '\n').replace(/^\s+/, '');
  const end = text.indexOf(separator);
  return end === -1 ? text : text.slice(0, end);
}
