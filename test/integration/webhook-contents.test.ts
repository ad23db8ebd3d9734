import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitHubContents } from '../../functions/adapters/github-contents';
import { CachedSecret } from '../../functions/commons/secrets';
import { configCandidates, readPushedPost } from '../../functions/publishing/post-files';
import { BlogRepository, type FakeGitHub, startFakeGitHub } from './webhook-harness';

const REPOSITORY = 'octocat/blog';
const POST = '---\ntitle: 你好\n---\n\n中文内容。\n';

let repository: BlogRepository;
let commit: string;
let github: FakeGitHub;
let enterprise: FakeGitHub;

beforeAll(async () => {
  repository = new BlogRepository();
  commit = repository.commit('Posts', {
    write: {
      'docs/_config.yml': 'title: Docs blog\n',
      'docs/_posts/2026-11-20-你好.md': POST,
      'docs/news/_posts/2026-11-21-nested.md': POST,
    },
  }).id;
  repository.commit('Later edit', { write: { 'docs/_posts/2026-11-20-你好.md': POST + '\nEdited later.\n' } });
  github = await startFakeGitHub(repository, REPOSITORY);
  enterprise = await startFakeGitHub(repository, REPOSITORY, '/api/v3');
});

afterAll(async () => {
  await github?.close();
  await enterprise?.close();
  repository?.remove();
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('reading files through the GitHub contents API', () => {
  it('reads a file at the given commit, not at the branch head, with a Chinese file name', async () => {
    const contents = new GitHubContents({ apiUrl: github.url });
    const text = Buffer.from((await contents.read(REPOSITORY, 'docs/_posts/2026-11-20-你好.md', commit))!).toString(
      'utf8',
    );
    expect(text).toBe(POST);
    expect(github.requests.at(-1)?.accept).toBe('application/vnd.github.raw+json');
  });

  it('decodes the base64 JSON form and works under a GitHub Enterprise /api/v3 base URL', async () => {
    enterprise.jsonOnly = true;
    const contents = new GitHubContents({ apiUrl: enterprise.url });
    expect(enterprise.url).toMatch(/\/api\/v3$/);
    expect(
      Buffer.from((await contents.read(REPOSITORY, 'docs/_posts/2026-11-20-你好.md', commit))!).toString('utf8'),
    ).toBe(POST);
  });

  it('answers undefined for a file that does not exist at that commit, once GitHub shows the repository', async () => {
    const contents = new GitHubContents({ apiUrl: github.url });
    const before = github.requests.length;
    expect(await contents.read(REPOSITORY, '_config.yml', commit)).toBeUndefined();
    expect(await contents.read(REPOSITORY, 'docs/news/_config.yml', commit)).toBeUndefined();
    // The repository itself ('' below its contents) was asked about once: a readable repository
    // stays readable for this token.
    expect(github.requests.slice(before).map((request) => request.path)).toEqual([
      '_config.yml',
      '',
      'docs/news/_config.yml',
    ]);
    // A post the pushed commit does not hold is not sent, and not retried.
    await expect(
      readPushedPost(contents, { repository: REPOSITORY, commit, path: '_posts/2026-11-22-missing.md', kind: 'post' }),
    ).rejects.toMatchObject({
      code: 'GITHUB_POST_NOT_FOUND',
      message: expect.stringContaining('is not in the repository at'),
    });
  });

  it('sends the token when one is set (private repositories) and none otherwise', async () => {
    github.requiredToken = 'ghp_private_token';
    try {
      const message = { repository: REPOSITORY, commit, path: 'docs/_posts/2026-11-20-你好.md', kind: 'post' as const };
      // GitHub answers 404 for a private repository: not "no such post" but a token to set, and
      // retryable, so the push waits in the queue (then its dead-letter queue) instead of being lost.
      await expect(readPushedPost(new GitHubContents({ apiUrl: github.url }), message)).rejects.toMatchObject({
        code: 'GITHUB_REPOSITORY_NOT_VISIBLE',
        retryable: true,
        message: expect.stringContaining('set a GitHub token'),
      });
      expect(github.requests.at(-1)?.authorization).toBeUndefined();
      const file = await readPushedPost(
        new GitHubContents({ apiUrl: github.url, token: 'ghp_private_token' }),
        message,
      );
      expect(github.requests.at(-1)?.authorization).toBe('Bearer ghp_private_token');
      // The site lives in docs/: the config is found there and the path is made relative to it.
      expect(file).toMatchObject({
        path: '_posts/2026-11-20-你好.md',
        config: { text: 'title: Docs blog\n', label: 'octocat/blog:docs/_config.yml' },
        commit,
        origin: 'webhook',
      });
    } finally {
      github.requiredToken = undefined;
    }
  });

  it('reads the token again when GitHub refuses it (404 for a private repository, 401 expired), without waiting for the cache', async () => {
    const message = { repository: REPOSITORY, commit, path: 'docs/_posts/2026-11-20-你好.md', kind: 'post' as const };
    // The secret as the editor edits it in Secrets Manager; the function keeps it for an hour here.
    let stored: string | undefined = 'ghp_old_token';
    let reads = 0;
    const token = new CachedSecret(async () => {
      reads++;
      return stored;
    }, 3_600_000);
    const contents = new GitHubContents({ apiUrl: github.url, token });
    github.requiredToken = 'ghp_new_token';
    try {
      await expect(readPushedPost(contents, message)).rejects.toMatchObject({
        code: 'GITHUB_REPOSITORY_NOT_VISIBLE',
        retryable: true,
        message: expect.stringContaining('token cannot see it'),
      });
      // Refused, the token was read again (still the old one) before giving up.
      expect(reads).toBe(2);
      stored = 'ghp_new_token';
      const file = await readPushedPost(contents, message);
      expect(Buffer.from(file.source).toString('utf8')).toBe(POST);
      expect(reads).toBe(3);
      expect(github.requests.at(-1)?.authorization).toBe('Bearer ghp_new_token');
    } finally {
      github.requiredToken = undefined;
    }

    const valid = 'ghp_rotated';
    const server = await serve((request, response) => {
      const ok = request.headers.authorization === `Bearer ${valid}`;
      response.writeHead(ok ? 200 : 401, { 'content-type': ok ? 'application/vnd.github.raw' : 'application/json' });
      response.end(ok ? 'body' : JSON.stringify({ message: 'Bad credentials' }));
    });
    try {
      stored = 'ghp_expired';
      const expiring = new GitHubContents({
        apiUrl: server.url,
        token: new CachedSecret(async () => stored, 3_600_000),
      });
      await expect(expiring.read(REPOSITORY, 'a.md', commit)).rejects.toMatchObject({
        code: 'GITHUB_UNAUTHORIZED',
        retryable: true,
      });
      stored = valid;
      expect(Buffer.from((await expiring.read(REPOSITORY, 'a.md', commit))!).toString('utf8')).toBe('body');
    } finally {
      await server.close();
    }
  });

  it('finds the config of a site whose posts sit below a category folder', async () => {
    expect(configCandidates('docs/news/_posts/2026-11-21-nested.md')).toEqual([
      'docs/news/_config.yml',
      'docs/_config.yml',
      '_config.yml',
    ]);
    const file = await readPushedPost(new GitHubContents({ apiUrl: github.url }), {
      repository: REPOSITORY,
      commit,
      path: 'docs/news/_posts/2026-11-21-nested.md',
      kind: 'post',
    });
    expect(file.path).toBe('news/_posts/2026-11-21-nested.md');
  });

  it('reports a rate limit as retryable, naming the reset time and the token', async () => {
    github.rateLimited = true;
    try {
      await expect(
        new GitHubContents({ apiUrl: github.url }).read(REPOSITORY, 'docs/_config.yml', commit),
      ).rejects.toMatchObject({
        code: 'GITHUB_RATE_LIMITED',
        retryable: true,
        message: expect.stringMatching(/rate limit reached until \d{4}-.*set a GitHub token/),
      });
    } finally {
      github.rateLimited = false;
    }
  });

  it('reports a rejected token, a forbidden repository and GitHub errors clearly', async () => {
    const statuses = [401, 403, 502];
    const server = await serve((request, response) => {
      const status = statuses[Number(new URL(request.url!, 'http://x').searchParams.get('ref'))]!;
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ message: status === 403 ? 'Resource not accessible by personal access token' : 'nope' }),
      );
    });
    try {
      const contents = new GitHubContents({ apiUrl: server.url, token: 'ghp_wrong' });
      // An expired token, or one without access to contents: retryable, so the push is kept
      // until the editor fixes the token.
      await expect(contents.read(REPOSITORY, 'a.md', '0')).rejects.toMatchObject({
        code: 'GITHUB_UNAUTHORIZED',
        retryable: true,
      });
      await expect(contents.read(REPOSITORY, 'a.md', '1')).rejects.toMatchObject({
        code: 'GITHUB_FORBIDDEN',
        retryable: true,
        message: expect.stringContaining('Resource not accessible'),
      });
      await expect(contents.read(REPOSITORY, 'a.md', '2')).rejects.toMatchObject({
        code: 'GITHUB_UNAVAILABLE',
        retryable: true,
      });
    } finally {
      await server.close();
    }
  });

  it('gives up on a GitHub that does not answer, as a retryable timeout', async () => {
    const server = await serve(() => {
      // Never answers.
    });
    try {
      await expect(
        new GitHubContents({ apiUrl: server.url, timeoutMs: 200 }).read(REPOSITORY, 'a.md', commit),
      ).rejects.toMatchObject({ code: 'GITHUB_TIMEOUT', retryable: true });
    } finally {
      await server.close();
    }
  });
});
