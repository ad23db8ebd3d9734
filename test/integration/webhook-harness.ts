/**
 * A blog repository and the GitHub API in front of it, for the webhook tests: a real git
 * repository built in a temp folder, and a local HTTP server answering the REST contents API
 * from it with `git show <sha>:<path>`, the way GitHub answers for that commit.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { readSettings } from '../../functions/commons/config';
import { type LocalStack, startLocalStack } from '../../functions/local/stack';
import { signPayload } from '../../functions/publishing/webhook-signature';

export class BlogRepository {
  readonly dir = mkdtempSync(join(tmpdir(), 'pushletter-blog-'));
  readonly commits: { id: string; added: string[]; removed: string[]; modified: string[] }[] = [];

  constructor() {
    this.git('init', '--quiet', '--initial-branch=main');
    this.git('config', 'user.email', 'editor@example.com');
    this.git('config', 'user.name', 'Editor');
    this.git('config', 'commit.gpgsign', 'false');
  }

  git(...args: string[]): string {
    return execFileSync('git', args, { cwd: this.dir, encoding: 'utf8' }).trim();
  }

  head(): string {
    return this.git('rev-parse', 'HEAD');
  }

  /** Writes and removes files, commits, and returns the commit as a push payload lists it. */
  commit(
    message: string,
    changes: { write?: Record<string, string>; remove?: string[] },
  ): { id: string; added: string[]; removed: string[]; modified: string[] } {
    for (const [path, content] of Object.entries(changes.write ?? {})) {
      mkdirSync(dirname(join(this.dir, path)), { recursive: true });
      writeFileSync(join(this.dir, path), content);
    }
    for (const path of changes.remove ?? []) this.git('rm', '--quiet', path);
    this.git('add', '--all');
    this.git('commit', '--quiet', '--allow-empty', '-m', message);
    const id = this.head();
    const status = this.git('diff-tree', '--no-commit-id', '--name-status', '-r', '--no-renames', '--root', id);
    const commit = { id, added: [] as string[], removed: [] as string[], modified: [] as string[] };
    for (const line of status.split('\n').filter(Boolean)) {
      const [kind, path] = line.split('\t') as [string, string];
      (kind === 'A' ? commit.added : kind === 'D' ? commit.removed : commit.modified).push(path);
    }
    this.commits.push(commit);
    return commit;
  }

  /** The file at a commit, or undefined when it does not exist there. */
  show(sha: string, path: string): Buffer | undefined {
    try {
      return execFileSync('git', ['show', `${sha}:${path}`], { cwd: this.dir, stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return undefined;
    }
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface FakeGitHub {
  url: string;
  requests: { path: string; ref: string | null; authorization?: string; accept?: string }[];
  /** Answer every request with 403 and an exhausted rate limit while set. */
  rateLimited: boolean;
  /** A private repository: without this bearer token, GitHub answers 404. */
  requiredToken?: string;
  /** Answer in the base64 JSON form even when raw is asked for (older GitHub Enterprise). */
  jsonOnly: boolean;
  close(): Promise<void>;
}

/**
 * GET /repos/{owner}/{repo}/contents/{path}?ref={sha}, served from `repository`, and
 * GET /repos/{owner}/{repo}, the repository itself. Like GitHub, both answer 404 to a request
 * without the token of a private repository.
 */
export async function startFakeGitHub(repository: BlogRepository, fullName: string, prefix = ''): Promise<FakeGitHub> {
  const state: FakeGitHub = {
    url: '',
    requests: [],
    rateLimited: false,
    jsonOnly: false,
    close: async () => {},
  };
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://github.test');
    const contentsPrefix = `${prefix}/repos/${fullName}/contents/`;
    const path = decodeURIComponent(url.pathname.slice(contentsPrefix.length));
    state.requests.push({
      path,
      ref: url.searchParams.get('ref'),
      authorization: request.headers.authorization,
      accept: request.headers.accept,
    });
    const notFound = () => {
      response.writeHead(404, { 'content-type': 'application/json; charset=utf-8' });
      response.end(
        JSON.stringify({
          message: 'Not Found',
          documentation_url: 'https://docs.github.com/rest/repos/contents#get-repository-content',
          status: '404',
        }),
      );
    };
    if (state.rateLimited) {
      response.writeHead(403, {
        'content-type': 'application/json; charset=utf-8',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 600),
      });
      response.end(JSON.stringify({ message: 'API rate limit exceeded for 127.0.0.1.' }));
      return;
    }
    if (request.method !== 'GET' || request.headers['user-agent'] === undefined) return notFound();
    if (state.requiredToken !== undefined && request.headers.authorization !== `Bearer ${state.requiredToken}`)
      return notFound();
    if (url.pathname === `${prefix}/repos/${fullName}`) {
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      response.end(
        JSON.stringify({ full_name: fullName, private: state.requiredToken !== undefined, default_branch: 'main' }),
      );
      return;
    }
    if (!url.pathname.startsWith(contentsPrefix)) return notFound();
    const ref = url.searchParams.get('ref') ?? repository.head();
    const content = repository.show(ref, path);
    if (content === undefined) return notFound();
    if (!state.jsonOnly && (request.headers.accept ?? '').includes('application/vnd.github.raw')) {
      response.writeHead(200, { 'content-type': 'application/vnd.github.raw; charset=utf-8' });
      response.end(content);
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    response.end(
      JSON.stringify({
        type: 'file',
        encoding: 'base64',
        size: content.length,
        name: path.split('/').pop(),
        path,
        content: content.toString('base64').replace(/(.{60})/g, '$1\n'),
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${prefix}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

/** A push event body in the shape GitHub documents, for the given commits. */
export function pushPayload(options: {
  fullName: string;
  ref?: string;
  before: string;
  commits: { id: string; added: string[]; removed: string[]; modified: string[] }[];
}): Record<string, unknown> {
  const [owner, name] = options.fullName.split('/') as [string, string];
  const commits = options.commits.map((commit) => ({
    id: commit.id,
    tree_id: commit.id.split('').reverse().join(''),
    distinct: true,
    message: 'Update the blog',
    timestamp: '2026-11-20T09:30:00+08:00',
    url: `https://github.com/${options.fullName}/commit/${commit.id}`,
    author: { name: 'Editor', email: 'editor@example.com', username: 'editor' },
    committer: { name: 'Editor', email: 'editor@example.com', username: 'editor' },
    added: commit.added,
    removed: commit.removed,
    modified: commit.modified,
  }));
  const after = commits[commits.length - 1]?.id ?? options.before;
  return {
    ref: options.ref ?? 'refs/heads/main',
    before: options.before,
    after,
    created: false,
    deleted: false,
    forced: false,
    base_ref: null,
    compare: `https://github.com/${options.fullName}/compare/${options.before.slice(0, 12)}...${after.slice(0, 12)}`,
    commits,
    head_commit: commits[commits.length - 1] ?? null,
    repository: {
      id: 1296269,
      node_id: 'MDEwOlJlcG9zaXRvcnkxMjk2MjY5',
      name,
      full_name: options.fullName,
      private: false,
      owner: { name: owner, email: null, login: owner, id: 1, type: 'User', site_admin: false },
      html_url: `https://github.com/${options.fullName}`,
      default_branch: 'main',
      master_branch: 'main',
    },
    pusher: { name: 'editor', email: 'editor@example.com' },
    sender: { login: 'editor', id: 2, type: 'User', site_admin: false },
  };
}

/** The headers GitHub sends with a delivery, signed with `secret` (or not, or wrongly). */
export function deliveryHeaders(
  body: string,
  options: { event?: string; secret?: string; delivery?: string },
): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/044aadd',
    'x-github-event': options.event ?? 'push',
    'x-github-delivery': options.delivery ?? '72d3162e-cc78-11e3-81ab-4c9367dc0958',
    'x-github-hook-id': '292430182',
  };
  if (options.secret !== undefined) headers['x-hub-signature-256'] = signPayload(options.secret, body);
  return headers;
}

/** A local stack whose webhook reads from a fake GitHub holding a fresh blog repository. */
export interface HookedStack {
  repository: BlogRepository;
  github: FakeGitHub;
  stack: LocalStack;
  /** `POST /hooks/github` on the stack. */
  hook: string;
  /** The repository's first commit, with `_config.yml`. */
  base: string;
  stop(): Promise<void>;
}

export async function startHookedStack(
  fullName: string,
  config: string,
  environment: Record<string, string> = {},
): Promise<HookedStack> {
  const repository = new BlogRepository();
  const base = repository.commit('Start', { write: { '_config.yml': config } }).id;
  const github = await startFakeGitHub(repository, fullName);
  const dataDir = mkdtempSync(join(tmpdir(), 'pushletter-hook-'));
  const stack = await startLocalStack({
    dataDir,
    ports: { http: 0, ses: 0, dynamodb: 0 },
    settings: readSettings({ PUSHLETTER_REPOSITORY: fullName, PUSHLETTER_GITHUB_API_URL: github.url, ...environment }),
  });
  return {
    repository,
    github,
    stack,
    base,
    hook: `http://127.0.0.1:${stack.ports.http}/hooks/github`,
    async stop() {
      await stack.stop();
      await github.close();
      repository.remove();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
