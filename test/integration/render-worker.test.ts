import { afterAll, describe, expect, it } from 'vitest';
import { readSettings } from '../../functions/commons/config';
import { InvalidInputError } from '../../functions/commons/errors';
import { RenderWorker } from '../../functions/local/render-worker';
import type { PostFile } from '../../functions/publishing/ingest-post';
import { PostLimitError } from '../../functions/render/limits';

/**
 * The local stack's render worker: a real worker thread with a time and memory budget. A post
 * over either is refused with the post's name and the limit, and the next post still renders.
 */
const settings = readSettings({});
const now = new Date('2026-11-20T08:00:00Z');
const workers: RenderWorker[] = [];
afterAll(async () => {
  for (const worker of workers) await worker.stop();
});

function worker(budget?: { timeoutMs: number; memoryMb: number }): RenderWorker {
  const created = new RenderWorker(budget);
  workers.push(created);
  return created;
}

function post(name: string, body: string): PostFile {
  return { path: `_posts/${name}.md`, source: `---\ntitle: ${name}\n---\n\n${body}\n`, kind: 'post', origin: 'test' };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected the render to fail');
    },
    (error: Error) => error,
  );
}

describe('the render worker', () => {
  it('renders a post and its email off the main thread', async () => {
    const { post: parsed, email } = await worker().render(
      post('2024-06-01-fine', 'Hello **readers**.'),
      settings,
      now,
      { skippedToo: false },
    );
    expect(parsed.id).toBe('2024-06-01-fine');
    expect(parsed.date).toBeInstanceOf(Date);
    expect(email?.html).toContain('<strong>readers</strong>');
  });

  it("hands back the renderer's own errors with their class and code, so the ingest worker does not retry them", async () => {
    const renderer = worker();
    const limit = await failure(
      renderer.render(post('2024-06-02-deep', '> '.repeat(1_000) + 'deep'), settings, now, { skippedToo: false }),
    );
    expect(limit).toBeInstanceOf(PostLimitError);
    expect(limit).toMatchObject({ code: 'POST_NESTING_LIMIT' });
    const broken = { ...post('2024-06-03-broken', ''), source: '---\ntitle: [unclosed\n---\n\nBody.\n' };
    const invalid = await failure(renderer.render(broken, settings, now, { skippedToo: false }));
    expect(invalid).toBeInstanceOf(InvalidInputError);
  });

  it('stops a render over its time budget', async () => {
    const renderer = worker({ timeoutMs: 1, memoryMb: 512 });
    const error = await failure(
      renderer.render(post('2024-06-04-slow', 'Slow.'), settings, now, { skippedToo: false }),
    );
    expect(error).toBeInstanceOf(PostLimitError);
    expect(error).toMatchObject({ code: 'POST_RENDER_TIMEOUT' });
    expect(error.message).toContain('_posts/2024-06-04-slow.md');
  });

  it('stops a render over its memory budget', async () => {
    const renderer = worker({ timeoutMs: 120_000, memoryMb: 32 });
    const row = `|${' cell |'.repeat(10)}\n`;
    const table = `|${' head |'.repeat(10)}\n|${'---|'.repeat(10)}\n${row.repeat(Math.floor(900_000 / row.length))}`;
    const error = await failure(renderer.render(post('2024-06-05-huge', table), settings, now, { skippedToo: false }));
    expect(error).toMatchObject({ code: 'POST_RENDER_MEMORY' });
    expect(error.message).toContain('more than 32 MB');
    // The thread that ran out is gone; a new one renders the next post.
    const fine = await renderer.render(post('2024-06-06-after', 'After.'), settings, now, { skippedToo: false });
    expect(fine.email?.html).toContain('After.');
  });
});
