import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, relative, resolve, sep } from 'node:path';
import { fillSite, READER_STRINGS, readerLanguage } from '../../templates/reader-strings';
import type { Settings, SiteIdentity } from '../commons/config';
import { InvalidInputError } from '../commons/errors';
import { escapeHtml } from '../commons/html';
import { logger } from '../commons/logger';
import { servedAt } from '../publishing/ingest-post';
import { parsePost } from '../render/post';
import { loadSite } from '../render/site';
import type { Post, SiteConfig } from '../render/types';

/**
 * The blog the local stack sends, served as plain pages under /blog/ of the stack's address:
 * a list of posts, each post's text, and the site's files (images). Every link a local email
 * or page carries ("view on the web", "Back to …") then answers, with no Jekyll running. It
 * is a preview of the words, not of the blog's theme.
 */
export const BLOG_PATH = '/blog';

const POST_EXTENSIONS = new Set(['.md', '.markdown']);
const CONTENT_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.css': 'text/css; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.pdf': 'application/pdf',
};
const STYLE = `body{margin:0;font:1.0625rem/1.7 system-ui,-apple-system,"Segoe UI","PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;color:#1b1b1f;background:#fff}
header,main,footer{max-width:42rem;margin:0 auto;padding:1rem 1.25rem}header a{font-weight:600;color:#1b1b1f;text-decoration:none}
h1{line-height:1.3}img{max-width:100%;height:auto}pre{overflow-x:auto;background:#f4f4f7;padding:.75rem}table{display:block;overflow-x:auto;border-collapse:collapse}
td,th{border:1px solid #ddd;padding:.3rem .6rem}.date,footer{color:#4a4a55;font-size:.95rem}a{color:#0b57d0}`;

export interface LocalBlog {
  root: string;
  /** The site as `_config.yml` describes it. */
  site: SiteConfig;
  identity(appUrl: string): SiteIdentity;
  /** Published posts, newest first, with URLs on this server. */
  posts(appUrl: string): Promise<Post[]>;
  /** Answers GET and HEAD under /blog; false for every other request. */
  handle(incoming: IncomingMessage, outgoing: ServerResponse, appUrl: string): Promise<boolean>;
}

/** The blog in `dir` (a Jekyll site: `_config.yml` and `_posts/`), or a clear error. */
export async function openLocalBlog(dir: string, settings: Settings): Promise<LocalBlog> {
  const root = resolve(dir);
  if (!existsSync(join(root, '_config.yml')) && !existsSync(join(root, '_config.yaml'))) {
    throw new InvalidInputError(
      'SITE_NOT_FOUND',
      `--site ${dir}: no _config.yml there; pass the folder of a Jekyll blog (the one that holds _config.yml and _posts/)`,
    );
  }
  const site = await loadSite(root, settings);
  const parsed = new Map<string, { mtimeMs: number; post: Post | undefined }>();

  async function postFiles(folder: string): Promise<string[]> {
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
    const files = await Promise.all(
      entries.map((entry) => {
        const path = join(folder, entry.name);
        if (entry.isDirectory()) return postFiles(path);
        return Promise.resolve(POST_EXTENSIONS.has(extname(entry.name).toLowerCase()) ? [path] : []);
      }),
    );
    return files.flat();
  }

  async function posts(appUrl: string): Promise<Post[]> {
    const servedSite = servedAt(site, blogUrl(appUrl));
    const list: Post[] = [];
    for (const file of await postFiles(join(root, '_posts'))) {
      const { mtimeMs } = await stat(file);
      let entry = parsed.get(file);
      if (entry === undefined || entry.mtimeMs !== mtimeMs) {
        let post: Post | undefined;
        try {
          post = await parsePost({
            path: relative(root, file).split(sep).join('/'),
            source: await readFile(file),
            site: servedSite,
          });
        } catch (error) {
          logger.warn('local.blog.post_unreadable', { file, error: (error as Error).message });
        }
        entry = { mtimeMs, post };
        parsed.set(file, entry);
      }
      // Jekyll leaves `published: false` posts out of the site; `newsletter: false` ones stay.
      if (entry.post !== undefined && entry.post.frontMatter.published !== false) list.push(entry.post);
    }
    return list.sort((a, b) => b.date.getTime() - a.date.getTime());
  }

  const language = readerLanguage(site.lang) ?? 'en';
  const page = (title: string, lang: string, content: string) => `<!doctype html>
<html lang="${escapeHtml(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><a href="${BLOG_PATH}/">${escapeHtml(site.title)}</a></header>
<main>
${content}
</main>
<footer><a href="/?lang=${encodeURIComponent(language)}">${escapeHtml(fillSite(READER_STRINGS[language].signup.title, site.title))}</a></footer>
</body>
</html>
`;
  const dateText = (post: Post) => post.date.toISOString().slice(0, 10);

  function send(outgoing: ServerResponse, method: string, status: number, type: string, body: string | Buffer): true {
    outgoing.writeHead(status, {
      'content-type': type,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    outgoing.end(method === 'HEAD' ? undefined : body);
    return true;
  }

  /** A file of the site itself (images, downloads); never `_config.yml`, `_posts/` sources or dotfiles. */
  async function siteFile(segments: string[]): Promise<Buffer | undefined> {
    if (
      segments.length === 0 ||
      segments.some(
        (segment) => segment === '' || segment.startsWith('.') || segment.startsWith('_') || segment.includes('\0'),
      )
    )
      return undefined;
    const path = resolve(root, ...segments);
    if (!path.startsWith(root + sep)) return undefined;
    const info = await stat(path).catch(() => undefined);
    return info?.isFile() ? readFile(path) : undefined;
  }

  async function handle(incoming: IncomingMessage, outgoing: ServerResponse, appUrl: string): Promise<boolean> {
    const path = new URL(`http://localhost${(incoming.url ?? '/').startsWith('/') ? incoming.url : '/'}`).pathname;
    if (path !== BLOG_PATH && !path.startsWith(`${BLOG_PATH}/`)) return false;
    const method = (incoming.method ?? 'GET').toUpperCase();
    if (method !== 'GET' && method !== 'HEAD') {
      outgoing.setHeader('allow', 'GET, HEAD');
      return send(outgoing, method, 405, 'text/plain; charset=utf-8', 'The blog pages can only be read.\n');
    }
    const all = await posts(appUrl);
    if (path === BLOG_PATH || path === `${BLOG_PATH}/`) {
      const items = all
        .map(
          (post) =>
            `<li><a href="${escapeHtml(post.url)}">${escapeHtml(post.title)}</a> <span class="date">${dateText(post)}</span></li>`,
        )
        .join('\n');
      const description = site.description ? `<p>${escapeHtml(site.description)}</p>\n` : '';
      return send(
        outgoing,
        method,
        200,
        'text/html; charset=utf-8',
        page(
          site.title,
          site.lang ?? language,
          `<h1>${escapeHtml(site.title)}</h1>\n${description}<ul>\n${items}\n</ul>`,
        ),
      );
    }
    const post = all.find((candidate) => samePath(new URL(candidate.url).pathname, path));
    if (post !== undefined) {
      const article = `<article>\n<h1>${escapeHtml(post.title)}</h1>\n<p class="date">${dateText(post)}</p>\n${post.bodyHtml}\n</article>`;
      return send(
        outgoing,
        method,
        200,
        'text/html; charset=utf-8',
        page(`${post.title} · ${site.title}`, post.lang, article),
      );
    }
    let segments: string[];
    try {
      segments = path
        .slice(BLOG_PATH.length + 1)
        .split('/')
        .map(decodeURIComponent);
    } catch {
      segments = [];
    }
    const file = await siteFile(segments);
    if (file !== undefined)
      return send(
        outgoing,
        method,
        200,
        CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
        file,
      );
    const notFound = READER_STRINGS[language].errors.notFound;
    return send(
      outgoing,
      method,
      404,
      'text/html; charset=utf-8',
      page(
        notFound.title,
        language,
        `<h1>${escapeHtml(notFound.title)}</h1>\n<p>${escapeHtml(notFound.body)}</p>\n<p><a href="${BLOG_PATH}/">${escapeHtml(fillSite(READER_STRINGS[language].backToSite, site.title))}</a></p>`,
      ),
    );
  }

  return {
    root,
    site,
    identity: (appUrl) => ({ title: site.title, url: blogUrl(appUrl), language: site.lang, timeZone: site.timezone }),
    posts,
    handle,
  };
}

function blogUrl(appUrl: string): string {
  return `${appUrl}${BLOG_PATH}/`;
}

/** Permalinks with and without a trailing slash, or with `.html`, name the same page. */
function samePath(permalink: string, requested: string): boolean {
  const strip = (path: string) =>
    decodeURIComponent(path)
      .replace(/\/$/, '')
      .replace(/\/index\.html$/, '');
  try {
    return strip(permalink) === strip(requested);
  } catch {
    return false;
  }
}
