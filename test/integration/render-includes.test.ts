import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DomUtils, parseDocument } from 'htmlparser2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPublish } from '../../functions/cli/publish-command';
import { run as runRender } from '../../functions/cli/render-command';
import { readSettings } from '../../functions/commons/config';
import { type LocalStack, startLocalStack } from '../../functions/local/stack';
import { INCLUDE_LIMITS } from '../../functions/render/includes';
import { importSubscribers } from '../../functions/subscribers/import';
import { cliAgainst, inbox } from './http-helpers';
import { BlogRepository, deliveryHeaders, type FakeGitHub, pushPayload, startFakeGitHub } from './webhook-harness';

/**
 * `{% include %}` through the three ways a post becomes an email: `render` reads `_includes/`
 * from the blog folder, `publish` sends the files from the folder to the local stack, and the
 * webhook reads them from GitHub at the pushed commit. The included text must be the same in all
 * three: the preview is what is sent.
 */
const REPOSITORY = 'octocat/included';
const READER = 'reader@example.com';
const EDITOR = 'editor@example.com';
const POST = '_posts/2024-11-02-with-includes.md';
const EXPECTED = '提示：本文已在生产环境验证。 Signed by the editors of Included Notes.';

let repository: BlogRepository;
let github: FakeGitHub;
let stack: LocalStack;
let dataDir: string;
let outDir: string;
let base: string;
let cli: ReturnType<typeof cliAgainst>;

beforeAll(async () => {
  repository = new BlogRepository();
  base = repository.commit('Site', {
    write: {
      '_config.yml': 'title: Included Notes\nurl: https://included.example.com\nlang: zh-CN\n',
      '_includes/note.html': '<p class="note">提示：{{ include.text }} {% include sign.html %}</p>\n',
      '_includes/sign.html': 'Signed by the editors of {{ site.title }}.',
      '_includes/unused.html': '<p>Never named by the post.</p>\n',
      '_includes/huge.html': `<p>${'大'.repeat(INCLUDE_LIMITS.fileBytes)}</p>\n`,
    },
  }).id;
  github = await startFakeGitHub(repository, REPOSITORY);
  dataDir = mkdtempSync(join(tmpdir(), 'pushletter-includes-'));
  outDir = mkdtempSync(join(tmpdir(), 'pushletter-includes-out-'));
  stack = await startLocalStack({
    dataDir,
    ports: { http: 0, ses: 0, dynamodb: 0 },
    settings: readSettings({ PUSHLETTER_REPOSITORY: REPOSITORY, PUSHLETTER_GITHUB_API_URL: github.url }),
  });
  cli = cliAgainst(stack, dataDir);
  const { composition } = stack;
  await importSubscribers([{ line: 2, email: READER }], {
    store: composition.subscribers,
    service: composition.subscriptions,
    clock: composition.clock,
    confirmed: true,
  });
});

afterAll(async () => {
  cli?.restore();
  await stack?.stop();
  await github?.close();
  repository?.remove();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(outDir, { recursive: true, force: true });
});

/** The included paragraph as a reader sees it in an HTML part. */
function includedText(html: string): string | undefined {
  const paragraph = DomUtils.findOne(
    (element) => element.name === 'p' && DomUtils.textContent(element).startsWith('提示'),
    parseDocument(html).children,
  );
  return paragraph ? DomUtils.textContent(paragraph).replace(/\s+/g, ' ').trim() : undefined;
}

describe('{% include %} in a post', () => {
  it('shows the same included text in the render preview, a publish --test copy and the copy the webhook sends', async () => {
    const post = repository.commit('Post', {
      write: {
        [POST]:
          '---\ntitle: 带引用的文章\n---\n\n正文第一段。\n\n{% include note.html text="本文已在生产环境验证。" %}\n\n{% include huge.html %}\n\n正文结束。\n',
      },
    });

    const rendered = cli.streams();
    const settings = readSettings({ PUSHLETTER_PUBLIC_URL: `http://127.0.0.1:${stack.ports.http}` });
    expect(
      await runRender([join(repository.dir, POST), '--out', outDir], {
        out: rendered.out,
        err: rendered.err,
        settings,
      }),
    ).toBe(0);
    const preview = readFileSync(join(outDir, 'with-includes.html'), 'utf8');
    expect(includedText(preview)).toBe(EXPECTED);
    expect(readFileSync(join(outDir, 'with-includes.txt'), 'utf8')).toContain(EXPECTED);

    const published = cli.streams();
    expect(
      await runPublish([join(repository.dir, POST), '--test', EDITOR], { out: published.out, err: published.err }),
    ).toBe(0);
    expect(published.printed()).toContain(`sent to ${EDITOR}`);

    const body = JSON.stringify(pushPayload({ fullName: REPOSITORY, before: base, commits: [post] }));
    const response = await fetch(`http://127.0.0.1:${stack.ports.http}/hooks/github`, {
      method: 'POST',
      headers: deliveryHeaders(body, { secret: stack.composition.secrets.webhookSecret }),
      body,
    });
    expect(response.status).toBe(202);
    await stack.ingest.idle();
    await stack.sending.idle();

    const [testCopy] = await inbox(stack, EDITOR);
    const [sent] = await inbox(stack, READER);
    expect(includedText(testCopy?.body.html ?? '')).toBe(EXPECTED);
    expect(includedText(sent?.body.html ?? '')).toBe(EXPECTED);
    expect(sent?.body.text).toContain(EXPECTED);

    // Only the includes the post names were read from GitHub, never the whole folder; the one
    // over the size limit was left out of every copy alike.
    const includeReads = github.requests
      .filter((request) => request.path.startsWith('_includes/'))
      .map((request) => request.path);
    expect(new Set(includeReads)).toEqual(
      new Set(['_includes/note.html', '_includes/sign.html', '_includes/huge.html']),
    );
    for (const html of [preview, testCopy?.body.html ?? '', sent?.body.html ?? ''])
      expect(html).not.toContain('大大大');
  });
});
