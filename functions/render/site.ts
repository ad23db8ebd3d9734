import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Settings } from '../commons/config';
import { InvalidInputError } from '../commons/errors';
import { isTimeZone } from './dates';
import { parseYamlMapping } from './frontmatter';
import { normaliseLanguage } from './language';
import type { SiteConfig } from './types';

const CONFIG_FILES = ['_config.yml', '_config.yaml'];
const POST_FOLDERS = new Set(['_posts', '_drafts']);

/** How many folders above `_posts/` may still hold the site's `_config.yml` (`news/_posts/` sites). */
const MAX_LEVELS_ABOVE_POSTS = 3;

function configFileIn(folder: string): string | undefined {
  return CONFIG_FILES.map((name) => join(folder, name)).find((file) => existsSync(file));
}

/**
 * The Jekyll site a post belongs to: the folder above its `_posts/` or `_drafts/` folder.
 * Jekyll also reads `_posts/` below category folders (`news/_posts/`), so when that folder has
 * no `_config.yml`, the nearest ancestor that has one wins. Without any `_config.yml` the folder
 * above `_posts/` is still the site (posts link to each other through it).
 */
export function findSiteRoot(postPath: string): string | undefined {
  let folder = dirname(resolve(postPath));
  while (true) {
    if (POST_FOLDERS.has(basename(folder))) {
      const candidate = dirname(folder);
      if (configFileIn(candidate)) return candidate;
      let ancestor = candidate;
      for (let level = 0; level < MAX_LEVELS_ABOVE_POSTS; level += 1) {
        const parent = dirname(ancestor);
        if (parent === ancestor) break;
        ancestor = parent;
        if (configFileIn(ancestor)) return ancestor;
      }
      return candidate;
    }
    const parent = dirname(folder);
    if (parent === folder) return undefined;
    folder = parent;
  }
}

/** Site settings from `<root>/_config.yml`, else from the project's settings. */
export async function loadSite(root: string | undefined, settings: Settings): Promise<SiteConfig> {
  const file = root === undefined ? undefined : configFileIn(root);
  if (file === undefined) return siteFromSettings(settings, root);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InvalidInputError(
      'SITE_CONFIG_INVALID',
      `${file}: cannot be read (${(error as Error).message}); check the file's permissions`,
      { cause: error },
    );
  }
  return siteFromConfigText(text, file, settings, root);
}

function siteFromSettings(settings: Settings, root: string | undefined): SiteConfig {
  const url = new URL(settings.siteUrl);
  return {
    url: url.origin,
    baseurl: normaliseBaseurl(url.pathname),
    title: settings.siteTitle,
    permalink: 'date',
    lang: normaliseLanguage(settings.language),
    root,
    data: {
      url: url.origin,
      baseurl: normaliseBaseurl(url.pathname),
      title: settings.siteTitle,
      lang: settings.language,
    },
  };
}

function normaliseBaseurl(value: string): string {
  const trimmed = value.trim().replace(/\/+$/, '');
  if (trimmed === '') return '';
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

/**
 * Reads `_config.yml` text. The webhook fetches it over the GitHub API, so this takes text and
 * a label for messages rather than a path.
 */
export function siteFromConfigText(text: string, fileLabel: string, settings: Settings, root?: string): SiteConfig {
  const invalid = (problem: string, fix: string) =>
    new InvalidInputError(
      'SITE_CONFIG_INVALID',
      `${fileLabel}: ${problem}; ${fix}, or no post of this site can be rendered`,
    );
  const data = parseYamlMapping(
    text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n'),
    (line, problem) =>
      invalid(`not valid YAML${line === undefined ? '' : ` near line ${line}`} (${problem})`, 'fix the YAML'),
    0,
  );
  const fallback = siteFromSettings(settings, root);

  const text_ = (key: string): string | undefined => {
    const value = data[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string' || typeof value === 'number') return String(value).trim();
    throw invalid(
      `"${key}" must be text, not ${Array.isArray(value) ? 'a list' : typeof value}`,
      `write it as ${key}: "..."`,
    );
  };

  let url = fallback.url;
  let baseurlFromUrl = '';
  const configuredUrl = text_('url');
  if (configuredUrl) {
    let parsed: URL;
    try {
      parsed = new URL(configuredUrl);
    } catch {
      throw invalid(
        `"url" is not an absolute URL (got "${configuredUrl}")`,
        'write it as url: "https://blog.example.com"',
      );
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw invalid(
        `"url" must start with http:// or https:// (got "${configuredUrl}")`,
        'write it as url: "https://blog.example.com"',
      );
    }
    url = parsed.origin;
    // Some sites put the path in `url` instead of `baseurl`; links still need it.
    baseurlFromUrl = normaliseBaseurl(parsed.pathname);
  }
  const configuredBaseurl = text_('baseurl');
  const baseurl =
    configuredBaseurl === undefined
      ? configuredUrl
        ? baseurlFromUrl
        : fallback.baseurl
      : normaliseBaseurl(baseurlFromUrl + normaliseBaseurl(configuredBaseurl));

  const timezone = text_('timezone') || undefined;
  if (timezone !== undefined && !isTimeZone(timezone)) {
    throw invalid(
      `"timezone" is not a known IANA time zone (got "${timezone}")`,
      'use a name such as Asia/Shanghai or America/New_York',
    );
  }
  const permalink = text_('permalink') || 'date';
  // A site without `lang` lets each post's text decide (Chinese text reads as zh-CN).
  const lang = normaliseLanguage(text_('lang') ?? text_('locale'));

  return {
    url,
    baseurl,
    title: text_('title') || fallback.title,
    description: text_('description') || undefined,
    permalink,
    timezone,
    lang,
    root,
    data: { ...data, url, baseurl, permalink },
  };
}

/** An absolute URL for a path on the site; `path` starts with `/` and excludes `baseurl`. */
export function siteUrl(site: SiteConfig, path: string): string {
  return new URL(`${site.url}${site.baseurl}${path.startsWith('/') ? path : `/${path}`}`).href;
}
