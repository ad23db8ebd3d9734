import { join } from 'node:path';
import { logger } from '../commons/logger';
import { type IngestOutcome, ingestPost } from '../publishing/ingest-post';
import { importSubscribers } from '../subscribers/import';
import { projectPath } from './project-root';
import { readLocalPost } from './publish-route';
import type { LocalStack } from './stack';

/** The example blog's post `npm start` publishes. */
export const DEMO_POST = projectPath('examples/blog/_posts/2024-12-02-welcome-to-the-newsletter.md');

/** Readers the demo signs up, as if an editor imported them with their consent on record. */
export const DEMO_SUBSCRIBERS = [
  { email: 'ada@example.com', lang: 'en', name: 'Ada' },
  { email: 'li.lei@example.com', lang: 'zh-CN', name: '李雷' },
  { email: 'grace@example.com', lang: 'en', name: 'Grace' },
];

function summary(outcome: IngestOutcome): string {
  switch (outcome.status) {
    case 'dispatching':
      return `published "${outcome.subject}"`;
    case 'exists':
      return `${outcome.postId} was published on an earlier start; the issue record keeps it from being sent again`;
    case 'scheduled':
      return `${outcome.postId} is dated in the future; scheduled for ${outcome.at}`;
    case 'skipped':
      return `${outcome.postId} skipped: ${outcome.reason}`;
    default:
      return `${outcome.postId}: ${outcome.status}`;
  }
}

/**
 * `npm start`: a few confirmed readers and the example post, sent through the same pipeline
 * a push uses. Safe to run on every start: the import leaves existing (and unsubscribed)
 * readers as they are, and the issue record makes the second publish a no-op.
 */
export async function runDemo(stack: LocalStack, print: (line: string) => void = console.log): Promise<void> {
  const { composition, ingest, sending } = stack;
  const report = await importSubscribers(
    DEMO_SUBSCRIBERS.map((subscriber, index) => ({ line: index + 2, ...subscriber })),
    { store: composition.subscribers, service: composition.subscriptions, clock: composition.clock, confirmed: true },
  );
  if (report.imported > 0)
    print(
      `demo: ${report.imported} confirmed demo subscribers added (${DEMO_SUBSCRIBERS.map((subscriber) => subscriber.email).join(', ')})`,
    );

  // The served blog's newest post: the example's welcome post, or the editor's own with --site.
  const newest = (await stack.blog?.posts(stack.urls.app))?.[0];
  const postFile =
    newest === undefined || stack.blog === undefined ? DEMO_POST : join(stack.blog.root, newest.sourcePath);
  const outcome = await ingestPost(await readLocalPost(postFile, stack.blog?.root), ingest.ports);
  logger.info('demo.published', { postId: outcome.postId, status: outcome.status });
  print(`demo: ${summary(outcome)}`);
  if (outcome.status === 'dispatching') {
    await sending.idle();
    print(
      `demo: sent; open ${stack.urls.inbox}/ to read it (one copy per subscriber, each with its own unsubscribe link)`,
    );
  }
}
