import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  classifyPath,
  ignoreReason,
  type PushCommit,
  parsePushEvent,
  selectAddedPosts,
} from '../../functions/publishing/github-push';

const template = JSON.parse(readFileSync(new URL('../fixtures/github/push.json', import.meta.url), 'utf8'));
const AFTER = 'b'.repeat(40);

function commit(id: string, files: Partial<Pick<PushCommit, 'added' | 'removed' | 'modified'>>) {
  return {
    id: id.repeat(40).slice(0, 40),
    tree_id: 'f'.repeat(40),
    distinct: true,
    message: 'update the blog',
    timestamp: '2026-11-20T10:00:00+08:00',
    url: `https://github.com/octocat/blog/commit/${id}`,
    author: { name: 'Octo Cat', email: 'octocat@users.noreply.github.com', username: 'octocat' },
    committer: { name: 'GitHub', email: 'noreply@github.com', username: 'web-flow' },
    added: files.added ?? [],
    removed: files.removed ?? [],
    modified: files.modified ?? [],
  };
}

function payload(commits: ReturnType<typeof commit>[], overrides: Record<string, unknown> = {}) {
  return { ...template, after: AFTER, commits, head_commit: commits[commits.length - 1] ?? null, ...overrides };
}

describe('parsePushEvent', () => {
  it("reads GitHub's documented push payload", () => {
    const push = parsePushEvent(payload([commit('a', { added: ['_posts/2026-11-20-hello.md'] })]));
    expect(push).toMatchObject({ ref: 'refs/heads/main', after: AFTER, repository: 'octocat/blog', deleted: false });
    expect(push.commits[0]?.added).toEqual(['_posts/2026-11-20-hello.md']);
  });

  it('reads a commit without file lists, or with null ones, as changing no files', () => {
    const push = parsePushEvent(payload([{ id: 'a', added: null } as never]));
    expect(push.commits).toEqual([{ id: 'a', added: [], removed: [], modified: [] }]);
  });

  it.each([
    ['a JSON array', [], 'JSON object'],
    ['no ref', { ...payload([]), ref: undefined }, 'ref'],
    ['a repository without full_name', { ...payload([]), repository: { name: 'blog' } }, 'repository.full_name'],
    ['a non-sha after', { ...payload([]), after: 'main' }, 'after'],
    ['commits that are not a list', { ...payload([]), commits: 'many' }, 'commits'],
    ['added paths that are not strings', payload([{ ...commit('a', {}), added: [42] } as never]), 'commits[0].added'],
  ])('rejects %s, naming the field', (_name, body, field) => {
    expect(() => parsePushEvent(body)).toThrowError(
      expect.objectContaining({ code: 'PUSH_PAYLOAD_INVALID', message: expect.stringContaining(field) }),
    );
  });
});

describe('which files a push sends', () => {
  it('sends posts added in any commit of the push, once each', () => {
    const selection = selectAddedPosts({
      commits: [
        commit('a', { added: ['_posts/2026-11-20-first.md', 'about.md'] }),
        commit('c', { added: ['_posts/tech/2026-11-21-second.markdown'], modified: ['_posts/2026-11-20-first.md'] }),
      ],
    });
    expect(selection).toEqual({
      posts: ['_posts/2026-11-20-first.md', '_posts/tech/2026-11-21-second.markdown'],
      drafts: [],
    });
  });

  it('sends nothing for modified-only pushes or removed posts', () => {
    expect(
      selectAddedPosts({
        commits: [
          commit('a', { modified: ['_posts/2026-11-20-first.md'] }),
          commit('c', { removed: ['_posts/2026-01-01-old.md'] }),
        ],
      }),
    ).toEqual({ posts: [], drafts: [] });
  });

  it('sends nothing for a post added then removed within the same push', () => {
    expect(
      selectAddedPosts({
        commits: [
          commit('a', { added: ['_posts/2026-11-20-oops.md'] }),
          commit('c', { removed: ['_posts/2026-11-20-oops.md'] }),
        ],
      }),
    ).toEqual({ posts: [], drafts: [] });
  });

  it('sends nothing for a post moved to another folder or extension (a rename)', () => {
    expect(
      selectAddedPosts({
        commits: [
          commit('a', { removed: ['_posts/2026-11-20-hello.md'], added: ['_posts/en/2026-11-20-hello.markdown'] }),
        ],
      }),
    ).toEqual({
      posts: [],
      drafts: [],
      renamed: ['_posts/2026-11-20-hello.md -> _posts/en/2026-11-20-hello.markdown'],
    });
  });

  it('sends nothing for a post whose file name got its date corrected (a rename), and names it', () => {
    expect(
      selectAddedPosts({
        commits: [
          commit('a', {
            removed: ['_posts/2026-11-02-hello.md'],
            added: ['_posts/2026-11-20-hello.md', '_posts/2026-11-20-other.md'],
          }),
        ],
      }),
    ).toStrictEqual({
      posts: ['_posts/2026-11-20-other.md'],
      drafts: [],
      renamed: ['_posts/2026-11-02-hello.md -> _posts/2026-11-20-hello.md'],
    });
  });

  it('sends a draft promoted to a post: the post is new', () => {
    expect(
      selectAddedPosts({
        commits: [commit('a', { removed: ['_drafts/hello.md'], added: ['_posts/2026-11-20-hello.md'] })],
      }),
    ).toEqual({ posts: ['_posts/2026-11-20-hello.md'], drafts: [] });
  });

  it('previews added drafts separately', () => {
    expect(
      selectAddedPosts({ commits: [commit('a', { added: ['_drafts/next-week.md', '_posts/2026-11-20-now.md'] })] }),
    ).toEqual({ posts: ['_posts/2026-11-20-now.md'], drafts: ['_drafts/next-week.md'] });
  });

  it.each([
    ['_posts/2026-11-20-hello.md', 'post'],
    ['blog/_posts/2026-11-20-hello.MD', 'post'],
    ['_posts/2026-11-20-hello.html', undefined],
    ['_posts/hello.md', undefined],
    ['_posts/images/2026-11-20-diagram.png', undefined],
    ['_drafts/idea.md', 'draft'],
    ['.github/_posts/2026-11-20-hello.md', undefined],
    ['README.md', undefined],
  ])('classifies %s as %s', (path, kind) => {
    expect(classifyPath(path)).toBe(kind);
  });
});

describe('which pushes are acted on', () => {
  const push = parsePushEvent(payload([commit('a', { added: ['_posts/2026-11-20-hello.md'] })]));

  it('acts on the configured repository and branch (repository names are case-insensitive)', () => {
    expect(ignoreReason(push, 'OctoCat/Blog', 'main')).toBeUndefined();
  });

  it('ignores other repositories, other branches, tags, branch deletion and an unset repository', () => {
    expect(ignoreReason(push, 'octocat/other', 'main')).toMatch(/not the configured octocat\/other/);
    expect(ignoreReason(push, 'octocat/blog', 'gh-pages')).toMatch(/not the configured branch gh-pages/);
    expect(ignoreReason({ ...push, ref: 'refs/tags/main' }, 'octocat/blog', 'main')).toMatch(
      /not the configured branch/,
    );
    expect(
      ignoreReason(parsePushEvent(payload([], { after: '0'.repeat(40), deleted: true })), 'octocat/blog', 'main'),
    ).toMatch(/deleted/);
    expect(ignoreReason(push, undefined, 'main')).toMatch(/PUSHLETTER_REPOSITORY/);
  });
});
