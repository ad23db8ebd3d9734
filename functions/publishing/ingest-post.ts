import type { Clock } from '../commons/clock';
import type { Settings } from '../commons/config';
import { ConfigError, errorMessage, InvalidInputError, PushletterError } from '../commons/errors';
import { logger, maskAddress } from '../commons/logger';
import type { Queue } from '../commons/queue';
import type { DispatchJob } from '../contract/messages';
import type { IssueState, IssueStore } from '../delivery/issues';
import { listIdOf } from '../mail/headers';
import type { Mailer } from '../mail/mailer';
import { type CompiledMessage, compileMessage, personalise, valuesForLanguage } from '../mail/message';
import { renderEmail } from '../render/email';
import { summarizePost } from '../render/excerpt';
import type { IncludedFiles } from '../render/includes';
import type { LinkTracking } from '../render/link-rewrite';
import { parsePost, readPostName } from '../render/post';
import { loadSite, siteFromConfigText } from '../render/site';
import {
  FOOTER_WORD_PLACEHOLDERS,
  type Post,
  PREFERENCES_URL_PLACEHOLDER,
  type RenderedEmail,
  type SiteConfig,
  UNSUBSCRIBE_URL_PLACEHOLDER,
} from '../render/types';
import { sampleLinks } from '../subscribers/tokens';
import type { Scheduler } from './schedule';

/**
 * Ingest: one post file becomes one issue. Parse, render once, compile the MIME message, then
 * create the issue record with a conditional write: the only place that decides whether a post
 * is sent, so a webhook redelivery, a second push, an edit or two concurrent publishes of the
 * same post (same id) end at 'exists' and send nothing more.
 */

/** A post as read from the repository at a commit, or from the editor's disk. */
export interface PostFile {
  /** Path inside the site (`_posts/2024-05-01-hello.md`); the post id comes from the file name. */
  path: string;
  source: Uint8Array | string;
  /** The site's `_config.yml`, when it has one; `label` names it in error messages. */
  config?: { text: string; label: string };
  kind: 'post' | 'draft';
  /** Shown to the editor in `status`: `webhook` or `publish`. */
  origin: string;
  /** The commit it was read at, for pushes. */
  commit?: string;
  /** The `_includes/` files the post names, read with it (see render/includes). */
  includes?: IncludedFiles;
}

/** A post parsed, and its email rendered unless the post is skipped (`skippedToo` renders it anyway). */
export interface RenderedPost {
  post: Post;
  email?: RenderedEmail;
}

/**
 * Parses and renders a post. In process by default; the local stack runs it in a worker thread
 * with a time and memory budget (functions/local/render-worker.ts), so a hostile post cannot
 * block the HTTP app.
 */
export type RenderPost = (
  file: PostFile,
  settings: Settings,
  now: Date,
  options: RenderOptions,
) => Promise<RenderedPost>;

export interface RenderOptions {
  skippedToo: boolean;
  /** Links through the counting redirect: the real send with tracking `aggregate` only. */
  tracking?: LinkTracking;
}

export const renderPostFile: RenderPost = async (file, settings, now, options) => {
  try {
    const site = await siteFor(file, settings);
    const post = await parsePost({ path: file.path, source: file.source, site, now, includes: file.includes });
    if (post.skipReason !== undefined && !options.skippedToo) return { post };
    return { post, email: await renderEmail(post, site, settings, options.tracking) };
  } catch (error) {
    if (error instanceof PushletterError) throw error;
    // Rendering reads nothing but the post: what failed once (a stack overflow, a renderer bug)
    // fails on every attempt, so the editor is told rather than the post retried.
    throw new InvalidInputError(
      'POST_RENDER_FAILED',
      `${file.path}: pushletter could not render it (${errorMessage(error)}); simplify the part of the post this points to`,
      { cause: error },
    );
  }
};

export interface IngestDependencies {
  settings: Settings;
  /** Defaults to renderPostFile, in this process. */
  render?: RenderPost;
  issues: Pick<IssueStore, 'createIssue' | 'getIssue' | 'replaceSkipped'>;
  dispatchQueue: Queue<DispatchJob>;
  scheduler: Scheduler;
  /** Sends previews and tests directly: they never go through subscribers. */
  mailer: Mailer;
  clock: Clock;
  /** Signs the redirect links of posts sent with tracking `aggregate` (derived from the token key). */
  linkKey?: Uint8Array;
}

export interface IngestOptions {
  /** Send a one-off copy here and record nothing: the post can still be sent for real later. */
  testAddress?: string;
  /**
   * An explicit publish by the editor: a post recorded as skipped that its front matter now
   * lets go is sent. A push never sets this: edits send nothing.
   */
  sendSkipped?: boolean;
}

export type IngestOutcome =
  | { status: 'dispatching'; postId: string; subject: string }
  | { status: 'scheduled'; postId: string; subject: string; at: string }
  | { status: 'skipped'; postId: string; reason: string }
  | { status: 'exists'; postId: string; state?: IssueState; resumed: boolean }
  | { status: 'preview'; postId: string; subject: string; recipients: number }
  | { status: 'test'; postId: string; subject: string; to: string };

const MARKS = {
  preview: { en: '[Preview] ', zh: '[预览] ' },
  test: { en: '[Test] ', zh: '[测试] ' },
};

function marked(kind: keyof typeof MARKS, subject: string, lang: string): string {
  return (lang.toLowerCase().startsWith('zh') ? MARKS[kind].zh : MARKS[kind].en) + subject;
}

/**
 * The post's site from its `_config.yml`, else from the project's settings; at the address
 * where the local stack serves the blog when it does (`blogServedAt`).
 */
export async function siteFor(file: Pick<PostFile, 'config'>, settings: Settings): Promise<SiteConfig> {
  const site = file.config
    ? await siteFromConfigText(file.config.text, file.config.label, settings)
    : await loadSite(undefined, settings);
  return settings.blogServedAt === undefined ? site : servedAt(site, settings.blogServedAt);
}

/** The site with its links pointing at `url` (origin and path), where it is served. */
export function servedAt(site: SiteConfig, url: string): SiteConfig {
  const { origin, pathname } = new URL(url);
  const baseurl = pathname.replace(/\/+$/, '');
  return { ...site, url: origin, baseurl, data: { ...site.data, url: origin, baseurl } };
}

/**
 * The issue's message, with the reader's links and the footer's words left as placeholders for
 * the delivery worker (the words' values in every language go with it).
 */
export function compileIssueMessage(
  email: Pick<RenderedEmail, 'subject' | 'html' | 'text' | 'lang' | 'footerWords'>,
  settings: Settings,
): CompiledMessage {
  return compileMessage(
    { subject: email.subject, html: email.html, text: email.text, lang: email.lang },
    { fromAddress: settings.fromAddress, fromName: settings.fromName, replyTo: settings.replyTo },
    {
      listId: listIdOf(settings),
      listUnsubscribe: { urlPlaceholder: UNSUBSCRIBE_URL_PLACEHOLDER },
      placeholders: [
        UNSUBSCRIBE_URL_PLACEHOLDER,
        PREFERENCES_URL_PLACEHOLDER,
        ...Object.values(FOOTER_WORD_PLACEHOLDERS),
      ],
      languageValues: email.footerWords,
    },
  );
}

/**
 * A copy for someone who is not (necessarily) a subscriber: an editor's preview or a test.
 * Its unsubscribe and preferences links lead to pages saying it was a test copy, which change
 * nothing; a real subscriber's copy always carries their own tokens.
 */
async function sendOneOff(
  email: RenderedEmail,
  subject: string,
  to: string[],
  ports: IngestDependencies,
): Promise<void> {
  const message = compileIssueMessage({ ...email, subject }, ports.settings);
  const values = {
    ...valuesForLanguage(message.languageValues, undefined),
    ...sampleLinks(ports.settings.publicUrl, 'test'),
  };
  for (const address of to) {
    const data = personalise(message, { to: address, values, date: ports.clock.now() });
    await ports.mailer.sendRaw({ to: address, data });
  }
}

async function existing(postId: string, ports: IngestDependencies): Promise<IngestOutcome> {
  const issue = await ports.issues.getIssue(postId);
  let resumed = false;
  // A worker that died between creating the issue and handing it on leaves the issue waiting
  // with nothing queued; handing it on again is safe (dispatch checkpoints and claims, and a
  // schedule is created once per post), so the redelivered message finishes the job.
  if (issue?.state === 'dispatching' && issue.cursor === '' && issue.enqueued === 0) {
    await ports.dispatchQueue.send([{ postId }]);
    resumed = true;
  } else if (issue?.state === 'scheduled') {
    await ports.scheduler.schedule(postId, new Date(issue.sendAt));
    resumed = true;
  }
  logger.info('issue.exists', { postId, state: issue?.state, resumed });
  return { status: 'exists', postId, state: issue?.state, resumed };
}

export async function ingestPost(
  file: PostFile,
  ports: IngestDependencies,
  options: IngestOptions = {},
): Promise<IngestOutcome> {
  const { settings, clock } = ports;
  const render = ports.render ?? renderPostFile;
  // The id and draft-ness come from the file name: records are checked before any rendering,
  // so a redelivered push of a post that failed or was sent costs no render.
  const name = readPostName(file.path);
  const draft = file.kind === 'draft' || name.draft;

  if (options.testAddress !== undefined) {
    const { post, email } = await render(file, settings, clock.now(), { skippedToo: true });
    const subject = marked('test', email!.subject, email!.lang);
    await sendOneOff(email!, subject, [options.testAddress], ports);
    logger.info('issue.test_sent', { postId: post.id, to: maskAddress(options.testAddress) });
    return { status: 'test', postId: post.id, subject, to: options.testAddress };
  }

  if (draft) {
    // Previews are never recorded under the post's id. For a push, a record of this commit's
    // preview keeps a webhook redelivery from mailing the editors again; it is written after
    // the send, so a failed send is retried (editors may then get a preview twice, never none).
    const previewId = previewIdOf(name.id, file.commit);
    if (previewId !== undefined && (await ports.issues.getIssue(previewId)) !== undefined) {
      return { status: 'exists', postId: previewId, state: 'preview', resumed: false };
    }
    const { post, email } = await render(file, settings, clock.now(), { skippedToo: true });
    const subject = marked('preview', email!.subject, email!.lang);
    if (settings.editors.length === 0)
      logger.warn('issue.preview.no_editors', { postId: post.id, hint: 'set PUSHLETTER_EDITORS' });
    await sendOneOff(email!, subject, settings.editors, ports);
    if (previewId !== undefined) {
      await ports.issues.createIssue(
        {
          postId: previewId,
          title: post.title,
          subject,
          state: 'preview',
          sendAt: clock.now().toISOString(),
          source: file.origin,
          commit: file.commit,
        },
        clock.now(),
      );
    }
    logger.info('issue.preview_sent', { postId: post.id, recipients: settings.editors.length });
    return { status: 'preview', postId: post.id, subject, recipients: settings.editors.length };
  }

  // Cheap early answer for the common repeat; the conditional create below is the real guard.
  const known = await ports.issues.getIssue(name.id);
  const replaceable = (known?.state === 'skipped' || known?.state === 'failed') && options.sendSkipped === true;
  if (known !== undefined && !replaceable) return existing(name.id, ports);

  const { post, email } = await render(file, settings, clock.now(), {
    skippedToo: false,
    tracking: linkTracking(ports),
  });
  const replacing = replaceable && post.skipReason === undefined;
  if (known !== undefined && !replacing) return existing(post.id, ports);
  const base = { postId: post.id, title: post.title, source: file.origin, commit: file.commit };
  if (post.skipReason !== undefined) {
    const created = await ports.issues.createIssue(
      {
        ...base,
        subject: post.title,
        state: 'skipped',
        sendAt: clock.now().toISOString(),
        skipReason: post.skipReason,
      },
      clock.now(),
    );
    if (created === 'exists') return existing(post.id, ports);
    logger.info('issue.skipped', { postId: post.id, reason: post.skipReason });
    return { status: 'skipped', postId: post.id, reason: post.skipReason };
  }

  for (const warning of email!.warnings)
    logger.warn('issue.render_warning', { postId: post.id, code: warning.code, detail: warning.message });
  const message = compileIssueMessage(email!, settings);
  const now = clock.now();
  // post.date is already read in the site's timezone by the parser.
  const future = post.date.getTime() > now.getTime();
  const sendAt = future ? post.date : now;
  const issue = {
    ...base,
    categoriesAndTags: categoriesAndTagsOf(post),
    subject: email!.subject,
    state: future ? ('scheduled' as const) : ('dispatching' as const),
    sendAt: sendAt.toISOString(),
    message,
    ...(email!.links === undefined ? {} : { links: email!.links }),
    // What the weekly digest shows of it.
    summary: summarizePost(post),
  };
  const created = replacing
    ? await ports.issues.replaceSkipped(issue, now)
    : await ports.issues.createIssue(issue, now);
  if (replacing && created === 'created') logger.info('issue.skipped_replaced', { postId: post.id });
  if (created === 'exists') return existing(post.id, ports);

  if (future) {
    await ports.scheduler.schedule(post.id, post.date);
    return { status: 'scheduled', postId: post.id, subject: email!.subject, at: post.date.toISOString() };
  }
  await ports.dispatchQueue.send([{ postId: post.id }]);
  logger.info('issue.created', { postId: post.id, source: file.origin, commit: file.commit });
  return { status: 'dispatching', postId: post.id, subject: email!.subject };
}

/** Beyond any blog's taxonomy; keeps a hostile front matter from filling the issue record. */
const CATEGORIES_AND_TAGS_CHARACTERS = 10_000;

/** The post's categories and tags for topic routing, each once, as much as fits the record. */
export function categoriesAndTagsOf(post: Pick<Post, 'categories' | 'tags'>): string[] {
  const names: string[] = [];
  let characters = 0;
  for (const name of new Set([...post.categories, ...post.tags])) {
    characters += name.length;
    if (characters > CATEGORIES_AND_TAGS_CHARACTERS) break;
    names.push(name);
  }
  return names;
}

/**
 * How the real send's links are tracked, or undefined with tracking `off`. Previews and test
 * copies never are: their links must work before the issue (and its link list) exists, and an
 * editor's clicks are no reader's.
 */
function linkTracking({ settings, linkKey }: IngestDependencies): LinkTracking | undefined {
  if (settings.tracking !== 'aggregate') return undefined;
  if (linkKey === undefined)
    throw new ConfigError(
      'tracking is aggregate but the ingest function has no link key: give it the token key (the CDK stack does when tracking is aggregate)',
    );
  return { publicUrl: settings.publicUrl, key: linkKey, opens: settings.opens };
}

/** The record of a pushed draft's preview at one commit; a draft from disk has none. */
export function previewIdOf(postId: string, commit: string | undefined): string | undefined {
  return commit ? `preview:${postId}:${commit}` : undefined;
}
