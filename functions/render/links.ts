import { existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { SiteConfig } from './types';

export interface LinkBase {
  site: SiteConfig;
  /** Absolute URL of the post: relative links resolve against it, as in a browser on the blog. */
  postUrl: string;
  /** The post's file, when it is on disk: links relative to the file (editor previews) resolve first. */
  sourceFile?: string;
  /** URL of another post of the site, given its file (for `[see](2024-01-01-other.md)`). */
  postFileUrl?: (file: string) => string | undefined;
  /** URL of a Markdown page of the site, given its path in the site (`/about.md` → `/about/`). */
  pageFileUrl?: (sitePath: string) => string | undefined;
}

const LINK_SCHEMES = new Set(['http:', 'https:', 'mailto:', 'tel:']);
const IMAGE_SCHEMES = new Set(['http:', 'https:']);

/**
 * The absolute URL a reader's mail client needs for a link or image as the author wrote it;
 * undefined for what must not reach an email (`javascript:`, `data:`, `file:`, …).
 */
export function absoluteLink(raw: string, kind: 'link' | 'image', base: LinkBase): string | undefined {
  const value = raw.trim();
  if (value === '') return undefined;
  if (value.startsWith('#')) return kind === 'link' ? base.postUrl.replace(/#.*$/, '') + value : undefined;

  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1];
  if (scheme !== undefined) {
    // A Windows-like "C:\..." path is not a URL either; both fall out here.
    const allowed = kind === 'link' ? LINK_SCHEMES : IMAGE_SCHEMES;
    if (!allowed.has(`${scheme.toLowerCase()}:`)) return undefined;
    return withoutDoubledBaseurl(safeUrl(value), base.site);
  }
  if (value.startsWith('//')) return withoutDoubledBaseurl(safeUrl(`https:${value}`), base.site);
  if (value.startsWith('/')) return rootRelative(value, base.site);

  const fromFile = fileRelative(value, base);
  if (fromFile !== undefined) return fromFile;
  return safeUrl(value, base.postUrl);
}

/**
 * A root-relative path on a site served under a `baseurl` (GitHub project pages): authors
 * write both `/notes/assets/x.png` and `/assets/x.png`; the second only works with the
 * prefix, so it gets it.
 */
function rootRelative(path: string, site: SiteConfig): string | undefined {
  const { baseurl } = site;
  const hasBase =
    baseurl !== '' &&
    (path === baseurl ||
      path.startsWith(`${baseurl}/`) ||
      path.startsWith(`${baseurl}?`) ||
      path.startsWith(`${baseurl}#`));
  return withoutDoubledBaseurl(safeUrl(`${site.url}${hasBase ? '' : baseurl}${path}`), site);
}

/** `{{ site.baseurl }}{% link … %}` on Jekyll 4 (where `link` adds the baseurl itself) doubles it. */
function withoutDoubledBaseurl(url: string | undefined, site: SiteConfig): string | undefined {
  if (url === undefined || site.baseurl === '') return url;
  const parsed = new URL(url);
  if (parsed.origin !== new URL(site.url).origin) return url;
  const doubled = encodeURI(`${site.baseurl}${site.baseurl}/`);
  if (parsed.pathname.startsWith(doubled)) parsed.pathname = parsed.pathname.slice(site.baseurl.length);
  return parsed.href;
}

function safeUrl(value: string, base?: string): string | undefined {
  try {
    return new URL(value, base).href;
  } catch {
    return undefined;
  }
}

/**
 * `![](../../assets/x.png)` written to preview in an editor from `_posts/<category>/`: when the
 * target exists in the site folder, it is that file's URL on the site.
 */
function fileRelative(value: string, base: LinkBase): string | undefined {
  const root = base.site.root;
  if (root === undefined || base.sourceFile === undefined) return undefined;
  const match = /^([^?#]*)(.*)$/.exec(value)!;
  let pathPart: string;
  try {
    pathPart = decodeURIComponent(match[1]!);
  } catch {
    return undefined;
  }
  if (pathPart === '') return undefined;
  const target = resolve(dirname(resolve(base.sourceFile)), pathPart);
  const inside = relative(resolve(root), target);
  if (inside.startsWith('..') || isAbsolute(inside) || !existsSync(target) || !statSync(target).isFile())
    return undefined;
  const sitePath = `/${inside.split(sep).join('/')}`;
  if (/^\/_(posts|drafts)\//.test(sitePath) || /\/_posts\//.test(sitePath)) {
    const postUrl = base.postFileUrl?.(target);
    if (postUrl !== undefined) return postUrl + match[2]!;
  }
  // jekyll-relative-links (on by default on GitHub Pages) links `about.md` to the page it becomes.
  if (/\.(md|markdown)$/i.test(sitePath)) {
    const pageUrl = base.pageFileUrl?.(sitePath);
    if (pageUrl !== undefined) return pageUrl + match[2]!;
  }
  return safeUrl(`${base.site.url}${base.site.baseurl}${sitePath}${match[2]!}`);
}
