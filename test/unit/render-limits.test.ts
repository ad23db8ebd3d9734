import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSettings } from '../../functions/commons/config';
import { renderEmail } from '../../functions/render/email';
import { PostLimitError, RENDER_LIMITS } from '../../functions/render/limits';
import { parsePost } from '../../functions/render/post';
import { loadSite } from '../../functions/render/site';

/**
 * A post arrives through a webhook: whatever it holds, rendering it ends in bounded time and
 * memory, and a post over a limit is refused with an error naming the post and the limit.
 */
const settings = readSettings({});
const PATH = '_posts/2024-05-01-hostile.md';

async function parse(body: string, root?: string) {
  const site = await loadSite(root, settings);
  return parsePost({ path: root ? join(root, PATH) : PATH, source: `---\ntitle: Hostile\n---\n\n${body}\n`, site });
}

async function refusal(body: string, root?: string): Promise<PostLimitError> {
  const error = await parse(body, root).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(PostLimitError);
  expect((error as PostLimitError).message).toContain('2024-05-01-hostile.md');
  return error as PostLimitError;
}

describe('Liquid limits', () => {
  it('refuses a loop over a huge range before allocating it, naming the memory limit', async () => {
    const error = await refusal('{% for i in (1..100000000) %}x{% endfor %}');
    expect(error.code).toBe('POST_LIQUID_LIMIT');
    expect(error.message).toContain(RENDER_LIMITS.liquidMemory.toLocaleString('en-US'));
  });

  it('still treats a mistake in the Liquid as a warning, not a refusal', async () => {
    const post = await parse('Hello {% if %} there');
    expect(post.warnings.map((warning) => warning.code)).toContain('LIQUID_ERROR');
  });
});

describe('includes', () => {
  const root = mkdtempSync(join(tmpdir(), 'pushletter-limits-'));
  const outside = mkdtempSync(join(tmpdir(), 'pushletter-outside-'));
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });
  mkdirSync(join(root, '_includes'));
  mkdirSync(join(root, '_posts'));
  writeFileSync(join(root, '_config.yml'), 'url: https://limits.example.com\ntitle: Limits\n');
  writeFileSync(join(root, '_includes', 'loop.html'), 'again {% include loop.html %}');
  writeFileSync(
    join(root, '_includes', 'fanout.html'),
    '{% include fanout.html %}{% include fanout.html %}{% include fanout.html %}',
  );
  writeFileSync(join(root, 'shared.md'), 'Shared *inside* the site.');
  writeFileSync(join(outside, 'secret.txt'), 'TOP-SECRET-TOKEN');
  symlinkSync(join(outside, 'secret.txt'), join(root, '_includes', 'secret.html'));
  symlinkSync(join(outside, 'secret.txt'), join(root, '_posts', 'secret.md'));
  symlinkSync(join(root, 'shared.md'), join(root, '_includes', 'shared.html'));

  it('refuses an include that includes itself, naming the post and the depth limit', async () => {
    const error = await refusal('{% include loop.html %}', root);
    expect(error.code).toBe('POST_LIQUID_LIMIT');
    expect(error.message).toContain(`more than ${RENDER_LIMITS.includeDepth} levels`);
    // Three includes of itself per level would be 3^10 renders without the depth limit.
    expect((await refusal('{% include fanout.html %}', root)).code).toBe('POST_LIQUID_LIMIT');
  });

  it('never follows a symbolic link out of the site, and follows one that stays inside', async () => {
    const post = await parse(
      '{% include secret.html %}\n\n{% include_relative secret.md %}\n\n{% include shared.html %}',
      root,
    );
    expect(post.bodyHtml).not.toContain('TOP-SECRET-TOKEN');
    expect(post.warnings.filter((warning) => warning.code === 'LIQUID_INCLUDE_OUTSIDE_SITE')).toHaveLength(2);
    expect(post.bodyHtml).toContain('Shared <em>inside</em> the site.');
  });
});

describe('nesting limits', () => {
  it.each([
    ['blockquotes', '>'.repeat(100_000) + ' deep'],
    ['blockquotes with spaces', '> '.repeat(100_000) + 'deep'],
    ['list items', '- '.repeat(100_000) + 'deep'],
    ['numbered list items', '1. '.repeat(100_000) + 'deep'],
  ])('refuses 100,000 nested %s without overflowing the stack', async (_name, body) => {
    const error = await refusal(body);
    expect(error.code).toBe('POST_NESTING_LIMIT');
    expect(error.message).toContain(`more than ${RENDER_LIMITS.markdownNesting} levels`);
  });

  it('refuses emphasis opened 100,000 times', async () => {
    expect((await refusal('*a '.repeat(100_000) + 'deep' + ' a*'.repeat(100_000))).code).toBe('POST_NESTING_LIMIT');
  });

  it('counts indented lines that continue a paragraph, which are not code', async () => {
    expect((await refusal('Start\n' + '    *a\n'.repeat(200) + 'deep')).code).toBe('POST_NESTING_LIMIT');
  });

  it('refuses HTML nested thousands of levels deep', async () => {
    const error = await refusal('<div>'.repeat(5_000) + 'deep' + '</div>'.repeat(5_000));
    expect(error.code).toBe('POST_NESTING_LIMIT');
    expect(error.message).toContain('<div>');
  });

  it('renders the nesting real posts have: quotes in lists, many unclosed paragraphs, many emphasised words', async () => {
    const post = await parse(
      [
        '> - quoted list\n>   > quote in it\n>   >   - deeper',
        '<p>one<p>two'.repeat(300),
        Array.from({ length: 500 }, (_, index) => `*word${index}* and _other_ ~~gone~~`).join(' '),
        '- a\n  - b\n    - c\n      - d',
        // Code is not Markdown: pointers in C and prompts in a shell session nest nothing.
        '```c\n' + 'int *a = *b + *c;\n'.repeat(200) + '```',
        '```console\n' + '> '.repeat(200) + 'echo\n```',
        // Indented four spaces, kramdown's own code block.
        'Some C:\n\n' + '    int *a = *b + *c;\n'.repeat(200),
        'Inline `*p` '.repeat(200),
      ].join('\n\n'),
    );
    expect(post.bodyHtml).toContain('<blockquote>');
    expect(post.bodyHtml).toContain('<em>word499</em>');
  });
});

describe('a post far longer than one email', () => {
  it('renders a 1 MB table cut to the email budget, saying what was left out', async () => {
    const row = `|${' cell |'.repeat(10)}\n`;
    const table = `|${' head |'.repeat(10)}\n|${'---|'.repeat(10)}\n${row.repeat(Math.floor(900_000 / row.length))}`;
    const paragraph = 'An introduction before the table.\n\n';
    const post = await parse(paragraph + table);
    const email = await renderEmail(post, await loadSite(undefined, settings), settings);
    expect(email.truncated).toBe(true);
    expect(email.html).toContain('An introduction before the table.');
    expect(email.warnings.find((warning) => warning.code === 'EMAIL_TRUNCATED')?.message).toMatch(
      /keeps the first 1 of 2 /,
    );
  });
});
