import type { LanguageValues } from '../mail/message';

/** What the renderer knows about a Jekyll site (from `_config.yml`, else the project settings). */
export interface SiteConfig {
  /** Absolute origin without trailing slash, e.g. https://blog.example.com */
  url: string;
  /** Path prefix, '' or '/blog' (no trailing slash). */
  baseurl: string;
  title: string;
  description?: string;
  /** Jekyll permalink style or pattern (`date`, `pretty`, `/:categories/:title/`…). */
  permalink: string;
  /** IANA zone, e.g. Asia/Shanghai; dates without an offset are read in it. */
  timezone?: string;
  lang?: string;
  /** Folder holding `_config.yml`, when there is one. */
  root?: string;
  /** Every key of `_config.yml`, for `{{ site.* }}`. */
  data: Record<string, unknown>;
}

export interface Warning {
  code: string;
  message: string;
}

/** A parsed post, ready for the email template. */
export interface Post {
  /** Stable across edits and re-pushes: `YYYY-MM-DD-slug` from the file name (drafts: `draft-slug`). */
  id: string;
  sourcePath: string;
  slug: string;
  title: string;
  description?: string;
  date: Date;
  categories: string[];
  tags: string[];
  /** Resolved language: post, else site, else detected from the text. */
  lang: string;
  /** Absolute URL of the post on the blog ("view on the web"). */
  url: string;
  /** Absolute URL of the front-matter image, if any. */
  image?: string;
  draft: boolean;
  /** Set when the front matter says not to send (`published: false`, `newsletter: false`). */
  skipReason?: string;
  /** Sanitised HTML fragment: absolute links and images, no scripts, no Liquid left. */
  bodyHtml: string;
  /**
   * Jekyll's excerpt as sanitised HTML: the front matter's `excerpt` (Markdown), else the body
   * before `excerpt_separator` (the post's, else the site's, else a blank line: the first
   * paragraph), rendered like the body. Absent on posts made by hand (tests): the digest then
   * takes the description.
   */
  excerptHtml?: string;
  frontMatter: Record<string, unknown>;
  warnings: Warning[];
}

/**
 * What a weekly digest shows of a post, recorded on its issue at ingest: the digest is built
 * from these, without the blog's repository.
 */
export interface PostSummary {
  title: string;
  /** The post's date (ISO). */
  date: string;
  url: string;
  lang: string;
  /** The excerpt as safe HTML (inline markup and paragraphs only) and as plain text, both cut short. */
  excerptHtml: string;
  excerptText: string;
  /** Absolute URL of the post's first image (front matter `image`, else the body's first). */
  image?: string;
}

/**
 * Per-recipient values are left as these ASCII placeholders in a rendered email and filled
 * in at send time; everything else is rendered once per post.
 */
export const UNSUBSCRIBE_URL_PLACEHOLDER = '%%PUSHLETTER_UNSUBSCRIBE_URL%%';
/** The recipient's "Manage your subscription" link (`GET /preferences?token=…`). */
export const PREFERENCES_URL_PLACEHOLDER = '%%PUSHLETTER_PREFERENCES_URL%%';

/** A recipient's own links, by the placeholder each fills (unsubscribe, preferences). */
export type RecipientLinks = Record<string, string>;

/**
 * The footer's own words (and its `lang`), left as placeholders so that each copy speaks its
 * reader's language while the post keeps its own; `RenderedEmail.footerWords` holds their
 * values in every language the newsletter speaks.
 */
export const FOOTER_WORD_PLACEHOLDERS = {
  lang: '%%PUSHLETTER_FOOTER_LANG%%',
  /** "You receive this email because you subscribed to", around the site title (a post's value). */
  whyBefore: '%%PUSHLETTER_FOOTER_WHY_BEFORE%%',
  whyAfter: '%%PUSHLETTER_FOOTER_WHY_AFTER%%',
  unsubscribe: '%%PUSHLETTER_FOOTER_UNSUBSCRIBE%%',
  manageSubscription: '%%PUSHLETTER_FOOTER_MANAGE%%',
  viewOnWeb: '%%PUSHLETTER_FOOTER_VIEW_ON_WEB%%',
} as const;

/** The email of one post, rendered once, before personalisation. */
export interface RenderedEmail {
  postId: string;
  subject: string;
  lang: string;
  /** Complete HTML document; contains UNSUBSCRIBE_URL_PLACEHOLDER and PREFERENCES_URL_PLACEHOLDER. */
  html: string;
  /** Plain-text part; contains UNSUBSCRIBE_URL_PLACEHOLDER and PREFERENCES_URL_PLACEHOLDER. */
  text: string;
  webUrl: string;
  /** True when the post was cut to stay under Gmail's clipping limit. */
  truncated: boolean;
  /** Values of FOOTER_WORD_PLACEHOLDERS by language; the post's language is the fallback. */
  footerWords: LanguageValues;
  warnings: Warning[];
  /**
   * With tracking `aggregate`: what each redirect link leads to, by index (0: the hidden link's
   * target, the post's page; 1…: the post's links). Stored with the issue for the redirect.
   */
  links?: string[];
}
