import { GitHubError, type RepositoryFiles } from '../publishing/post-files';

export interface GitHubContentsOptions {
  /** `https://api.github.com`, or `https://<host>/api/v3` for GitHub Enterprise Server. */
  apiUrl: string;
  /** A token that can read the repository; public repositories need none. */
  token?: string;
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

  constructor(private readonly options: GitHubContentsOptions) {
    this.apiUrl = options.apiUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  async read(repository: string, path: string, ref: string): Promise<Uint8Array | undefined> {
    const url = `${this.apiUrl}/repos/${repository.split('/').map(encodeURIComponent).join('/')}/contents/${encodePath(path)}?ref=${encodeURIComponent(ref)}`;
    const where = `${repository}:${path} at ${ref.slice(0, 7)}`;
    const headers: Record<string, string> = {
      // Raw bytes up to 100 MB; servers that ignore it answer with the base64 JSON form.
      Accept: 'application/vnd.github.raw+json',
      'User-Agent': 'pushletter',
      'X-GitHub-Api-Version': '2022-11-28',
    };
    if (this.options.token) headers.Authorization = `Bearer ${this.options.token}`;

    let response: Response;
    try {
      response = await this.fetch(url, { headers, signal: AbortSignal.timeout(this.timeoutMs) });
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

    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    if (!response.ok) throw await this.failure(response, where);

    const body = new Uint8Array(await response.arrayBuffer());
    const type = response.headers.get('content-type') ?? '';
    if (/json/i.test(type) && !/vnd\.github(\.v3)?\.raw/i.test(type)) return decodeContentsJson(body, where);
    return body;
  }

  private async failure(response: Response, where: string): Promise<GitHubError> {
    const detail = (await response.text().catch(() => '')).slice(0, 200).replace(/\s+/g, ' ');
    const remaining = response.headers.get('x-ratelimit-remaining');
    const reset = Number(response.headers.get('x-ratelimit-reset'));
    if (response.status === 429 || (response.status === 403 && (remaining === '0' || /rate limit/i.test(detail)))) {
      const when = Number.isFinite(reset) && reset > 0 ? ` until ${new Date(reset * 1000).toISOString()}` : '';
      const hint = this.options.token ? '' : ' (unauthenticated requests get 60 an hour: set a GitHub token)';
      return new GitHubError('GITHUB_RATE_LIMITED', `GitHub rate limit reached${when} reading ${where}${hint}`, true);
    }
    if (response.status === 401) {
      return new GitHubError('GITHUB_UNAUTHORIZED', `GitHub rejected the token reading ${where}: check that it is valid and not expired`, false);
    }
    if (response.status === 403) {
      return new GitHubError('GITHUB_FORBIDDEN', `GitHub refused access to ${where}: the token needs read access to the repository's contents (${detail})`, false);
    }
    if (response.status >= 500) {
      return new GitHubError('GITHUB_UNAVAILABLE', `GitHub answered ${response.status} reading ${where}; will retry`, true);
    }
    return new GitHubError('GITHUB_REQUEST_FAILED', `GitHub answered ${response.status} reading ${where}: ${detail}`, false);
  }
}

function decodeContentsJson(body: Uint8Array, where: string): Uint8Array {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch (error) {
    throw new GitHubError('GITHUB_BAD_RESPONSE', `GitHub sent unreadable JSON for ${where}`, true, { cause: error });
  }
  if (Array.isArray(parsed)) throw new GitHubError('GITHUB_NOT_A_FILE', `${where} is a folder, not a file`, false);
  const file = parsed as { type?: unknown; encoding?: unknown; content?: unknown };
  if (file.type !== 'file') throw new GitHubError('GITHUB_NOT_A_FILE', `${where} is a ${String(file.type)}, not a file`, false);
  if (file.encoding !== 'base64' || typeof file.content !== 'string') {
    // Files over 1 MB come back with encoding "none" in this form.
    throw new GitHubError('GITHUB_FILE_TOO_LARGE', `${where} is too large for the contents API's JSON form`, false);
  }
  return new Uint8Array(Buffer.from(file.content, 'base64'));
}
