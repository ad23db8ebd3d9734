import { GitHubError, type RepositoryFiles } from '../publishing/post-files';

/**
 * Where the token comes from when it can change while the function runs (a Secrets Manager
 * secret the editor edits): `get` may answer from a cache, `reread` asks the store again.
 */
export interface GitHubTokenSource {
  get(): Promise<string | undefined>;
  reread(): Promise<string | undefined>;
}

export interface GitHubContentsOptions {
  /** `https://api.github.com`, or `https://<host>/api/v3` for GitHub Enterprise Server. */
  apiUrl: string;
  /** A token that can read the repository (fixed, or re-read when refused); public repositories need none. */
  token?: string | GitHubTokenSource;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/**
 * Reads files of a repository at a given commit through the GitHub REST contents API
 * (`GET /repos/{owner}/{repo}/contents/{path}?ref={sha}`). Reading at the pushed sha, not the
 * branch, means a later push cannot change what this push sends.
 */
export class GitHubContents implements RepositoryFiles {
  private readonly apiUrl: string;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;
  private readonly tokens: GitHubTokenSource;
  /** Repositories seen readable, with the token that read them: a 404 there is a missing file. */
  private readonly visible = new Map<string, string | undefined>();

  constructor(private readonly options: GitHubContentsOptions) {
    this.apiUrl = options.apiUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetch = options.fetch ?? globalThis.fetch;
    const token = options.token;
    this.tokens = typeof token === 'object' ? token : { get: async () => token, reread: async () => token };
  }

  /**
   * GitHub answers 404, not 401, for a private repository the token cannot see, and 401 for an
   * expired token. Either way the file may well exist: the token is read again (the editor may
   * have just replaced it) and the read tried once more; if GitHub still refuses, the error is
   * retryable, so the push waits in the queue, then in its dead-letter queue with an alarm,
   * instead of being dropped as "not found".
   */
  async read(repository: string, path: string, ref: string): Promise<Uint8Array | undefined> {
    const token = await this.tokens.get();
    try {
      return await this.readWith(repository, path, ref, token);
    } catch (error) {
      if (!(error instanceof GitHubError) || !TOKEN_PROBLEMS.has(error.code)) throw error;
      const fresh = await this.tokens.reread();
      if (fresh === token) throw error;
      return this.readWith(repository, path, ref, fresh);
    }
  }

  private headers(token: string | undefined, accept: string): Record<string, string> {
    const headers: Record<string, string> = {
      Accept: accept,
      'User-Agent': 'pushletter',
      'X-GitHub-Api-Version': '2022-11-28',
    };
    if (token) headers.Authorization = `Bearer ${token}`;
    return headers;
  }

  private async readWith(
    repository: string,
    path: string,
    ref: string,
    token: string | undefined,
  ): Promise<Uint8Array | undefined> {
    const repositoryPath = `repos/${repository.split('/').map(encodeURIComponent).join('/')}`;
    const url = `${this.apiUrl}/${repositoryPath}/contents/${encodePath(path)}?ref=${encodeURIComponent(ref)}`;
    const where = `${repository}:${path} at ${ref.slice(0, 7)}`;
    // Raw bytes up to 100 MB; servers that ignore it answer with the base64 JSON form.
    const response = await this.request(url, this.headers(token, 'application/vnd.github.raw+json'), where);

    if (response.status === 404) {
      await response.body?.cancel();
      if (await this.canSee(repositoryPath, repository, token, where)) return undefined;
      const hint = token
        ? 'the GitHub token cannot see it: give it read access to contents, or replace it if it expired'
        : 'it is private or misnamed: set a GitHub token with read access to contents';
      throw new GitHubError(
        'GITHUB_REPOSITORY_NOT_VISIBLE',
        `GitHub does not show the repository ${repository} reading ${where}; ${hint}. The push is retried, then kept in the ingest dead-letter queue to redrive`,
        true,
      );
    }
    if (!response.ok) throw await this.failure(response, where, token);

    const body = new Uint8Array(await response.arrayBuffer());
    const type = response.headers.get('content-type') ?? '';
    if (/json/i.test(type) && !/vnd\.github(\.v3)?\.raw/i.test(type)) return decodeContentsJson(body, where);
    return body;
  }

  /** Whether `token` can read the repository at all (`GET /repos/{owner}/{repo}`); remembered once true. */
  private async canSee(
    repositoryPath: string,
    repository: string,
    token: string | undefined,
    where: string,
  ): Promise<boolean> {
    if (this.visible.has(repository) && this.visible.get(repository) === token) return true;
    const response = await this.request(
      `${this.apiUrl}/${repositoryPath}`,
      this.headers(token, 'application/vnd.github+json'),
      where,
    );
    await response.body?.cancel();
    if (response.ok) {
      this.visible.set(repository, token);
      return true;
    }
    if (response.status === 404 || response.status === 401) return false;
    throw await this.failure(response, where, token);
  }

  private async request(url: string, headers: Record<string, string>, where: string): Promise<Response> {
    try {
      return await this.fetch(url, { headers, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      throw new GitHubError(
        timedOut ? 'GITHUB_TIMEOUT' : 'GITHUB_UNREACHABLE',
        timedOut
          ? `GitHub did not answer within ${this.timeoutMs} ms reading ${where}`
          : `cannot reach ${this.apiUrl} reading ${where}: ${error instanceof Error ? error.message : String(error)}`,
        true,
        { cause: error },
      );
    }
  }

  private async failure(response: Response, where: string, token: string | undefined): Promise<GitHubError> {
    const detail = (await response.text().catch(() => '')).slice(0, 200).replace(/\s+/g, ' ');
    const remaining = response.headers.get('x-ratelimit-remaining');
    const reset = Number(response.headers.get('x-ratelimit-reset'));
    if (response.status === 429 || (response.status === 403 && (remaining === '0' || /rate limit/i.test(detail)))) {
      const when = Number.isFinite(reset) && reset > 0 ? ` until ${new Date(reset * 1000).toISOString()}` : '';
      const hint = token ? '' : ' (unauthenticated requests get 60 an hour: set a GitHub token)';
      return new GitHubError('GITHUB_RATE_LIMITED', `GitHub rate limit reached${when} reading ${where}${hint}`, true);
    }
    // Token problems (expired, or without access to contents): the editor can fix the token, so
    // until then the push waits (retries, then the dead-letter queue) instead of being dropped.
    if (response.status === 401) {
      return new GitHubError(
        'GITHUB_UNAUTHORIZED',
        `GitHub rejected the token reading ${where}: replace it with a valid one (the push is retried, then kept in the ingest dead-letter queue to redrive)`,
        true,
      );
    }
    if (response.status === 403) {
      return new GitHubError(
        'GITHUB_FORBIDDEN',
        `GitHub refused access to ${where}: the token needs read access to the repository's contents (${detail}); the push is retried, then kept in the ingest dead-letter queue to redrive`,
        true,
      );
    }
    if (response.status >= 500) {
      return new GitHubError(
        'GITHUB_UNAVAILABLE',
        `GitHub answered ${response.status} reading ${where}; will retry`,
        true,
      );
    }
    return new GitHubError(
      'GITHUB_REQUEST_FAILED',
      `GitHub answered ${response.status} reading ${where}: ${detail}`,
      false,
    );
  }
}

/** Refusals a new token can fix: worth reading the token again before giving up on this try. */
const TOKEN_PROBLEMS = new Set(['GITHUB_UNAUTHORIZED', 'GITHUB_FORBIDDEN', 'GITHUB_REPOSITORY_NOT_VISIBLE']);

function decodeContentsJson(body: Uint8Array, where: string): Uint8Array {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch (error) {
    throw new GitHubError('GITHUB_BAD_RESPONSE', `GitHub sent unreadable JSON for ${where}`, true, { cause: error });
  }
  if (Array.isArray(parsed)) throw new GitHubError('GITHUB_NOT_A_FILE', `${where} is a folder, not a file`, false);
  const file = parsed as { type?: unknown; encoding?: unknown; content?: unknown };
  if (file.type !== 'file')
    throw new GitHubError('GITHUB_NOT_A_FILE', `${where} is a ${String(file.type)}, not a file`, false);
  if (file.encoding !== 'base64' || typeof file.content !== 'string') {
    // Files over 1 MB come back with encoding "none" in this form.
    throw new GitHubError('GITHUB_FILE_TOO_LARGE', `${where} is too large for the contents API's JSON form`, false);
  }
  return new Uint8Array(Buffer.from(file.content, 'base64'));
}
