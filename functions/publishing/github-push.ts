import { InvalidInputError } from '../commons/errors';
import { payloadPath, pushPayloadSchema } from '../contract/push-payload';

/**
 * The parts of GitHub's `push` webhook payload pushletter reads
 * (https://docs.github.com/webhooks/webhook-events-and-payloads#push).
 */
export interface PushCommit {
  id: string;
  added: string[];
  removed: string[];
  modified: string[];
}

export interface PushEvent {
  /** `refs/heads/<branch>` or `refs/tags/<tag>`. */
  ref: string;
  before: string;
  /** The commit the branch points at after the push: posts are read at this commit. */
  after: string;
  /** `owner/name`. */
  repository: string;
  /** True when the push deleted the branch. */
  deleted: boolean;
  commits: PushCommit[];
}

/** What one push asks pushletter to do: new posts to send, new drafts to preview. */
export interface PushSelection {
  posts: string[];
  drafts: string[];
  /** Posts taken for renames and not sent (`old -> new`), for the editor to check; absent when none. */
  renamed?: string[];
  /** The welcome email's file, when the push added, changed or removed it (publishing/welcome.ts). */
  welcome?: string;
}

function fail(reason: string): never {
  throw new InvalidInputError('PUSH_PAYLOAD_INVALID', `malformed push payload: ${reason}`);
}

/** Checks the shape GitHub documents; throws InvalidInputError naming the first problem. */
export function parsePushEvent(payload: unknown): PushEvent {
  // A JSON array is an object to zod's record checks; GitHub never sends one.
  const result = pushPayloadSchema.safeParse(Array.isArray(payload) ? undefined : payload);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const where = payloadPath(issue.path);
    fail(where === '' ? issue.message : `${where} ${issue.message}`);
  }
  const { ref, before, after, repository, deleted, commits } = result.data;
  return {
    ref,
    before,
    after,
    repository: repository.full_name,
    deleted: deleted === true || /^0+$/.test(after),
    commits,
  };
}

/** The Markdown extensions the renderer reads (functions/render/post.ts). */
const MARKDOWN_EXTENSIONS = ['md', 'markdown', 'mkd', 'mkdn', 'mdown'];
/** Jekyll only publishes `_posts` files named `YYYY-MM-DD-title.ext`. */
const POST_NAME = new RegExp(`^\\d{4}-\\d{2}-\\d{2}-.+\\.(${MARKDOWN_EXTENSIONS.join('|')})$`, 'i');
const DRAFT_NAME = new RegExp(`^[^.].*\\.(${MARKDOWN_EXTENSIONS.join('|')})$`, 'i');

export type PostKind = 'post' | 'draft';

/** The blog's own welcome email (publishing/welcome.ts), beside `_config.yml`. */
export const WELCOME_FILE = '_newsletter/welcome.md';

/** `_newsletter/welcome.md`, or `<site folder>/_newsletter/welcome.md`, outside hidden folders. */
export function isWelcomePath(path: string): boolean {
  if (path !== WELCOME_FILE && !path.endsWith(`/${WELCOME_FILE}`)) return false;
  return !path.split('/').some((segment) => segment.startsWith('.'));
}

/**
 * `_posts/2024-05-01-hello.md`, `blog/_posts/tech/2024-05-01-hello.md` (Jekyll reads `_posts`
 * below category folders too) are posts; `_drafts/hello.md` is a draft; anything else is not
 * the newsletter's business.
 */
export function classifyPath(path: string): PostKind | undefined {
  const segments = path.split('/');
  const name = segments[segments.length - 1] ?? '';
  const folders = segments.slice(0, -1);
  // Jekyll ignores files and folders starting with "." or "_" other than its own special ones.
  if (folders.some((folder) => folder.startsWith('.'))) return undefined;
  if (folders.includes('_posts') && POST_NAME.test(name)) return 'post';
  if (folders.includes('_drafts') && DRAFT_NAME.test(name)) return 'draft';
  return undefined;
}

/** A post file's slug: its name without folder, extension and leading `YYYY-MM-DD-` date. */
function postSlug(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return name.slice(0, name.lastIndexOf('.')).replace(/^\d{4}-\d{1,2}-\d{1,2}-/, '');
}

/**
 * The files a push added and that still exist at `after`, walking the commits in order: a file
 * added then removed within the push sends nothing, a file added then modified is still new.
 * Modified and removed files send nothing. A post renamed within `_posts` (other folder,
 * extension or date, same slug) arrives as removed + added: it is the same post, so it sends
 * nothing either; a move in another push is caught later by the issue record keyed by the
 * post id, unless its date changed too.
 */
export function selectAddedPosts(push: Pick<PushEvent, 'commits'>): PushSelection {
  const added = new Set<string>();
  const removedPosts = new Map<string, string>();
  let welcome: string | undefined;
  for (const commit of push.commits) {
    welcome = [...commit.added, ...commit.modified, ...commit.removed].find(isWelcomePath) ?? welcome;
    for (const path of commit.added) added.add(path);
    for (const path of commit.removed) {
      if (added.has(path)) added.delete(path);
      else if (classifyPath(path) === 'post') removedPosts.set(postSlug(path), path);
    }
  }
  const posts: string[] = [];
  const drafts: string[] = [];
  const renamed: string[] = [];
  for (const path of added) {
    const kind = classifyPath(path);
    const previous = kind === 'post' ? removedPosts.get(postSlug(path)) : undefined;
    if (previous !== undefined) renamed.push(`${previous} -> ${path}`);
    else if (kind === 'post') posts.push(path);
    if (kind === 'draft') drafts.push(path);
  }
  return { posts, drafts, ...(renamed.length > 0 ? { renamed } : {}), ...(welcome === undefined ? {} : { welcome }) };
}

/** Why a push is none of pushletter's business, or undefined when it should be acted on. */
export function ignoreReason(push: PushEvent, repository: string | undefined, branch: string): string | undefined {
  if (repository === undefined) return 'no repository configured (set PUSHLETTER_REPOSITORY)';
  if (push.repository.toLowerCase() !== repository.toLowerCase()) {
    return `repository ${push.repository} is not the configured ${repository}`;
  }
  if (push.ref !== `refs/heads/${branch}`) return `${push.ref} is not the configured branch ${branch}`;
  if (push.deleted) return 'the push deleted the branch';
  return undefined;
}
