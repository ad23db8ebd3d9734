import { PushletterError } from '../commons/errors';
import { logger } from '../commons/logger';
import type { IngestMessage } from '../contract/messages';
import { gatherIncludes, type IncludedFiles } from '../render/includes';
import type { PostFile } from './ingest-post';

/** Files of the blog's repository at a commit (GitHub's contents API: adapters/github-contents.ts). */
export interface RepositoryFiles {
  /** The file's bytes, or undefined when it does not exist at that commit. */
  read(repository: string, path: string, ref: string): Promise<Uint8Array | undefined>;
}

export class GitHubError extends PushletterError {
  constructor(
    code: string,
    message: string,
    /** True when trying again later can succeed (rate limit, 5xx, timeout, a token the editor can fix). */
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'GitHubError';
  }
}

/**
 * Folders that may hold the site's `_config.yml`, nearest first. The site is usually the
 * repository root, but Jekyll also lives in `docs/` (GitHub Pages) or any folder, and `_posts`
 * may sit below a category folder (`blog/tech/_posts/...`), so every folder above the first
 * `_posts`/`_drafts` is a candidate.
 */
export function configCandidates(path: string): string[] {
  const segments = path.split('/');
  const special = segments.findIndex((segment) => segment === '_posts' || segment === '_drafts');
  const folders = segments.slice(0, Math.max(special, 0));
  const candidates: string[] = [];
  for (let depth = folders.length; depth >= 0; depth -= 1) {
    const folder = folders.slice(0, depth).join('/');
    candidates.push(folder === '' ? '_config.yml' : `${folder}/_config.yml`);
  }
  return candidates;
}

/** Reads the post and its site's `_config.yml` at the pushed commit. */
export async function readPushedPost(files: RepositoryFiles, message: IngestMessage): Promise<PostFile> {
  const source = await files.read(message.repository, message.path, message.commit);
  if (source === undefined) {
    // The repository is readable (a token problem is a retryable GitHubError), yet the commit
    // that added the file does not hold it: the delivery named a file that is not there.
    throw new PushletterError(
      'GITHUB_POST_NOT_FOUND',
      `${message.repository}:${message.path} is not in the repository at ${message.commit.slice(0, 7)}; push the post again if it should be sent`,
    );
  }
  let config: PostFile['config'];
  for (const candidate of configCandidates(message.path)) {
    const text = await files.read(message.repository, candidate, message.commit);
    if (text !== undefined) {
      config = { text: Buffer.from(text).toString('utf8'), label: `${message.repository}:${candidate}` };
      break;
    }
  }
  const root = config ? config.label.slice(message.repository.length + 1).replace(/_config\.yml$/, '') : '';
  const includes = await readPushedIncludes(files, message, root, source);
  return {
    // The path inside the site, as the renderer and the post id expect it.
    path: message.path.slice(root.length),
    source,
    config,
    kind: message.kind === 'draft' ? 'draft' : 'post',
    origin: 'webhook',
    commit: message.commit,
    ...(Object.keys(includes).length > 0 ? { includes } : {}),
  };
}

/**
 * The site's `_includes/` files the post names, at the pushed commit, as `render` reads them from
 * the folder. Only named files are read, within INCLUDE_LIMITS; those left out are logged and
 * the renderer warns that the email leaves them out.
 */
export async function readPushedIncludes(
  files: RepositoryFiles,
  message: IngestMessage,
  root: string,
  source: Uint8Array,
): Promise<IncludedFiles> {
  const gathered = await gatherIncludes(Buffer.from(source).toString('utf8'), (name) =>
    files.read(message.repository, `${root}_includes/${name}`, message.commit),
  );
  for (const { name, reason } of gathered.skipped)
    logger.warn('ingest.include_skipped', {
      repository: message.repository,
      path: message.path,
      include: name,
      reason,
    });
  return gathered.files;
}
