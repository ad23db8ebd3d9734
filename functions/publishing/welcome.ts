import type { Clock } from '../commons/clock';
import type { Settings } from '../commons/config';
import { InvalidInputError } from '../commons/errors';
import { escapeHtml } from '../commons/html';
import { logger } from '../commons/logger';
import type { IngestMessage } from '../contract/messages';
import type { StoredWelcome } from '../subscribers/welcome-email';
import { WELCOME_FILE } from './github-push';
import { compileIssueMessage, type PostFile, type RenderPost, renderPostFile, siteFor } from './ingest-post';
import { type RepositoryFiles, readPushedIncludes } from './post-files';

/**
 * The blog's own welcome email: `_newsletter/welcome.md` (WELCOME_FILE) beside `_config.yml`,
 * Markdown with a `title` in its front matter. Read when a push changes it (at that commit) and
 * when the local stack starts (from the blog folder), rendered like a post, and stored for the
 * API to send. Without it, or after it is removed, readers get the default welcome.
 */

/** The path the welcome is rendered under, which the renderer's messages begin with. */
const RENDERED_AS = '_drafts/welcome.md';

/**
 * A renderer's message about the welcome, naming the editor's file rather than the draft path
 * it was rendered as, and not calling it a post.
 */
function asWelcome(message: string): string {
  return message
    .replaceAll(RENDERED_AS, WELCOME_FILE)
    .replace('so Jekyll would not treat this file as a post', "so pushletter cannot read the welcome email's title")
    .replace('the post has front matter but no text', 'the welcome email has front matter but no text')
    .replace('write the post below', 'write the welcome below');
}

/** Where the welcome is kept for the API (adapters/dynamodb/welcome-store.ts). */
export interface WelcomeStore {
  /**
   * Stores the welcome read at `readAt` (undefined: the blog has none), unless one read later
   * is stored already ('stale').
   */
  save(welcome: StoredWelcome | undefined, readAt: string): Promise<'saved' | 'stale'>;
}

export interface WelcomeIngestDependencies {
  settings: Settings;
  /** Defaults to renderPostFile, in this process. */
  render?: RenderPost;
  welcomes: WelcomeStore;
  clock: Clock;
}

/**
 * Renders the welcome like a post and stores it; `file` undefined (the file is gone) or a front
 * matter saying `published: false` or `newsletter: false` brings back the default. A file that
 * cannot be rendered throws InvalidInputError, as a post does, and the stored welcome stays.
 */
export async function ingestWelcome(
  file: Omit<PostFile, 'path' | 'kind'> | undefined,
  readAt: string,
  dependencies: WelcomeIngestDependencies,
): Promise<'saved' | 'removed' | 'stale'> {
  const { settings, clock } = dependencies;
  let welcome: StoredWelcome | undefined;
  if (file !== undefined) {
    const render = dependencies.render ?? renderPostFile;
    // Rendered as a draft: a dateless Markdown file that is not a post and is never sent as one.
    const { post, email } = await render({ ...file, path: RENDERED_AS, kind: 'draft' }, settings, clock.now(), {
      skippedToo: false,
    }).catch((error: unknown) => {
      throw error instanceof InvalidInputError ? new InvalidInputError(error.code, asWelcome(error.message)) : error;
    });
    if (email !== undefined) {
      // "View on the web" leads to the blog, unless the welcome names a page of its own.
      const site = await siteFor(file, settings);
      const home = `${site.url}${site.baseurl}/`;
      const onWeb = post.frontMatter.permalink === undefined ? home : post.url;
      const html = email.html.replaceAll(escapeHtml(post.url), escapeHtml(onWeb)).replaceAll(post.url, onWeb);
      const text = email.text.replaceAll(post.url, onWeb);
      const message = compileIssueMessage({ ...email, html, text }, settings);
      welcome = { subject: email.subject, lang: email.lang, message, source: file.commit ?? file.origin };
      for (const warning of email.warnings)
        logger.warn('welcome.render_warning', { code: warning.code, detail: asWelcome(warning.message) });
    }
  }
  const saved = await dependencies.welcomes.save(welcome, readAt);
  const outcome = saved === 'stale' ? 'stale' : welcome === undefined ? 'removed' : 'saved';
  logger.info('welcome.ingested', { outcome, source: file?.commit ?? file?.origin });
  return outcome;
}

/** The welcome a push changed, read at the pushed commit with its site's `_config.yml` and includes. */
export async function readPushedWelcome(
  files: RepositoryFiles,
  message: IngestMessage,
): Promise<Omit<PostFile, 'path' | 'kind'> | undefined> {
  const source = await files.read(message.repository, message.path, message.commit);
  if (source === undefined) return undefined;
  const root = message.path.slice(0, -WELCOME_FILE.length);
  const configText = await files.read(message.repository, `${root}_config.yml`, message.commit);
  const includes = await readPushedIncludes(files, message, root, source);
  return {
    source,
    ...(configText === undefined
      ? {}
      : {
          config: { text: Buffer.from(configText).toString('utf8'), label: `${message.repository}:${root}_config.yml` },
        }),
    origin: 'webhook',
    commit: message.commit,
    ...(Object.keys(includes).length > 0 ? { includes } : {}),
  };
}
