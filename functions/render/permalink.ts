import { calendarParts } from './dates';

/** Jekyll's built-in permalink styles (Jekyll 4 `Utilities#permalink_style_to_template`). */
const PERMALINK_STYLES: Record<string, string> = {
  date: '/:categories/:year/:month/:day/:title:output_ext',
  pretty: '/:categories/:year/:month/:day/:title/',
  ordinal: '/:categories/:year/:y_day/:title:output_ext',
  weekdate: '/:categories/:year/W:week/:short_day/:title:output_ext',
  none: '/:categories/:title:output_ext',
};

/** Turns a `_config.yml` `permalink` (a style name or a pattern) into a pattern. */
export function permalinkTemplate(permalink: string | undefined): string {
  const value = (permalink ?? '').trim();
  if (value === '') return PERMALINK_STYLES.date!;
  return PERMALINK_STYLES[value] ?? value;
}

export type SlugifyMode = 'default' | 'pretty' | 'raw' | 'none';

/** Jekyll's `Utils.slugify`: Unicode letters and digits survive, as Ruby's `[:alnum:]` lets them. */
export function slugify(text: string, mode: SlugifyMode = 'default', cased = false): string {
  let slug: string;
  switch (mode) {
    case 'none':
      slug = text;
      break;
    case 'raw':
      slug = text.replace(/\s+/gu, '-');
      break;
    case 'pretty':
      slug = text.replace(/[^\p{L}\p{N}\p{M}._~!$&'()+,;=@]+/gu, '-');
      break;
    default:
      slug = text.replace(/[^\p{L}\p{N}\p{M}]+/gu, '-');
  }
  slug = slug.replace(/^-+|-+$/g, '');
  return cased ? slug : slug.toLowerCase();
}

/** Jekyll's `titleize_slug`, the title of a post whose front matter has none. */
export function titleizeSlug(slug: string): string {
  return slug
    .split('-')
    .map((word) => (word === '' ? word : word.charAt(0).toUpperCase() + word.slice(1).toLowerCase()))
    .join(' ');
}

/** Characters Jekyll's `URL.escape_path` leaves alone; everything else is percent-encoded as UTF-8. */
const PATH_SAFE = /[A-Za-z0-9\-._~!$&'()*+,;=:@/]/;

export function escapePath(path: string): string {
  let escaped = '';
  for (const character of path) {
    escaped += PATH_SAFE.test(character)
      ? character
      : encodeURIComponent(character).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  }
  return escaped;
}

export interface PostUrlInput {
  /** The slug from the file name (`2024-03-08-<slug>.md`). */
  fileSlug: string;
  /** Front matter `slug`, which replaces the file's slug in `:title` and `:slug`. */
  slugOverride?: string;
  categories: string[];
  date: Date;
  timeZone?: string;
  /** Front matter `permalink`, which wins over the site's. */
  permalink?: string;
  sitePermalink: string;
  /** Path of the post inside the site with `_posts/` and the extension removed, for `:path`. */
  cleanedPath?: string;
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

function isoWeek(year: number, month: number, day: number): { week: number; weekYear: number } {
  const date = new Date(Date.UTC(year, month - 1, day));
  const weekday = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - weekday);
  const weekYear = date.getUTCFullYear();
  const week = Math.ceil(((date.getTime() - Date.UTC(weekYear, 0, 1)) / 86_400_000 + 1) / 7);
  return { week, weekYear };
}

/** The values Jekyll 4's `UrlDrop` offers to a post's permalink pattern. */
export function postPlaceholders(input: PostUrlInput): Record<string, string> {
  const when = calendarParts(input.date, input.timeZone);
  const slug = input.slugOverride ?? input.fileSlug;
  const dayOfYear =
    Math.round((Date.UTC(when.year, when.month - 1, when.day) - Date.UTC(when.year, 0, 1)) / 86_400_000) + 1;
  const { week, weekYear } = isoWeek(when.year, when.month, when.day);
  const categories = [...new Set(input.categories.map((category) => category.toLowerCase()))];
  return {
    collection: 'posts',
    path: input.cleanedPath ?? `/${slug}`,
    name: slugify(input.fileSlug),
    title: slugify(slug, 'pretty', true),
    slug: slugify(slug),
    categories: categories.join('/'),
    slugified_categories: categories.map((category) => slugify(category)).join('/'),
    year: String(when.year),
    month: pad(when.month),
    day: pad(when.day),
    hour: pad(when.hour),
    minute: pad(when.minute),
    second: pad(when.second),
    i_day: String(when.day),
    i_month: String(when.month),
    short_month: MONTHS[when.month - 1]!.slice(0, 3),
    long_month: MONTHS[when.month - 1]!,
    short_year: pad(when.year % 100),
    y_day: pad(dayOfYear, 3),
    w_year: String(weekYear),
    week: pad(week),
    w_day: String(when.weekday === 0 ? 7 : when.weekday),
    short_day: DAYS[when.weekday]!.slice(0, 3),
    long_day: DAYS[when.weekday]!,
    output_ext: '.html',
  };
}

/** Every post offers the same placeholders: their pattern is built once, not per post. */
const placeholderPatterns = new Map<string, RegExp>();

/** `:name` for any of the names, longest first so `:short_year` is not read as `:short` + `_year`. */
function placeholderPattern(names: string[]): RegExp {
  const key = names.join(',');
  let pattern = placeholderPatterns.get(key);
  if (!pattern) {
    const longestFirst = [...names].sort((a, b) => b.length - a.length);
    pattern = new RegExp(`:(${longestFirst.join('|')})`, 'g');
    placeholderPatterns.set(key, pattern);
  }
  return pattern;
}

/** Fills a permalink pattern the way Jekyll's `URL#to_s` does: escaped values, no `//`, leading `/`. */
export function fillPermalink(template: string, placeholders: Record<string, string>): string {
  const pattern = placeholderPattern(Object.keys(placeholders));
  const filled = template.replace(pattern, (_whole, name: string) => escapePath(placeholders[name]!));
  const collapsed = `/${filled}`.replace(/\/{2,}/g, '/');
  return collapsed.replace(/\/\.\.?(?=\/|$)/g, '');
}

/** The post's path on the site, without the site's `baseurl` (what Jekyll calls `page.url`). */
export function postPath(input: PostUrlInput): string {
  const template =
    typeof input.permalink === 'string' && input.permalink.trim() !== ''
      ? input.permalink.trim()
      : permalinkTemplate(input.sitePermalink);
  return fillPermalink(template, postPlaceholders(input));
}
