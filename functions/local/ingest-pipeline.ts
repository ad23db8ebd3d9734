import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { GitHubContents } from '../adapters/github-contents';
import { logger } from '../commons/logger';
import type { Queue } from '../commons/queue';
import type { DispatchJob, IngestMessage } from '../contract/messages';
import type { IssueStore } from '../delivery/issues';
import { createIngestHandler } from '../publishing/ingest-consumer';
import type { IngestDependencies } from '../publishing/ingest-post';
import { TimerScheduler } from '../publishing/schedule';
import { LocalQueue } from './local-queue';
import type { LocalServices } from './local-services';
import { RenderWorker } from './render-worker';
import { QUEUE_DRAINED_ATTRIBUTE, SendResumption } from './send-resumption';

/**
 * Ingest on the local stack: the webhook's queue consumed in-process by the same handler the
 * ingest Lambda runs, and a timer per future-dated post standing in for EventBridge Scheduler.
 */
export interface LocalIngest {
  ingestQueue: LocalQueue<IngestMessage>;
  scheduler: TimerScheduler;
  /** What `pushletter publish` and the demo ingest a local file with. */
  ports: IngestDependencies;
  /** For the HTTP app's `POST /hooks/github`. */
  github: { webhookSecret: () => Promise<string | undefined>; ingestQueue: Queue<IngestMessage> };
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Timers and in-process queues die with the dev server. On the next start, issues still
 * `scheduled` get their timer back. Issues left `dispatching`, or `dispatched` but never marked
 * drained (send-drain.ts), may have had jobs in the lost send queue, including jobs of pages
 * already checkpointed: they are dispatched again from the first page, and the sender's
 * claims skip everyone already sent, failed, skipped or in doubt (left `sending`, reported
 * `unknown`, never re-sent), so only the recipients whose jobs were lost get mail. A scan is
 * fine for the local issues table (a handful of issues; the deliveries and subscribers are
 * not read); AWS needs none of this: EventBridge keeps its schedules and SQS its messages.
 */
async function resumeUnfinished(
  composition: LocalServices,
  scheduler: TimerScheduler,
  dispatchQueue: Queue<DispatchJob>,
): Promise<number> {
  const resumption = new SendResumption(composition.dynamo, composition.resources.issuesTable);
  let resumed = 0;
  let startKey: Record<string, never> | undefined;
  do {
    const page = await composition.dynamo.send(
      new ScanCommand({
        TableName: composition.resources.issuesTable,
        FilterExpression:
          '#state IN (:scheduled, :dispatching) OR (#state = :dispatched AND attribute_not_exists(#drained))',
        ProjectionExpression: 'postId, sendAt, #state',
        ExpressionAttributeNames: { '#state': 'state', '#drained': QUEUE_DRAINED_ATTRIBUTE },
        ExpressionAttributeValues: {
          ':scheduled': { S: 'scheduled' },
          ':dispatching': { S: 'dispatching' },
          ':dispatched': { S: 'dispatched' },
        },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      const { postId, sendAt, state } = unmarshall(item) as { postId: string; sendAt: string; state: string };
      if (state === 'scheduled') await scheduler.schedule(postId, new Date(sendAt));
      else if (await resumption.restartDispatch(postId)) await dispatchQueue.send([{ postId }]);
      else continue;
      resumed += 1;
    }
    startKey = page.LastEvaluatedKey as typeof startKey;
  } while (startKey);
  return resumed;
}

export async function startLocalIngest(
  composition: LocalServices,
  sending: { issues: IssueStore; dispatchQueue: Queue<DispatchJob> },
): Promise<LocalIngest> {
  const { settings, secrets, clock } = composition;
  const scheduler = new TimerScheduler((job) => sending.dispatchQueue.send([job]), clock);
  // Posts render in a worker thread: a hostile one must not stall the form and inbox beside it.
  const renderer = new RenderWorker();
  const ports: IngestDependencies = {
    settings,
    render: renderer.render,
    issues: sending.issues,
    dispatchQueue: sending.dispatchQueue,
    scheduler,
    mailer: composition.mailer,
    clock,
    linkKey: composition.linkKey,
  };
  const files = new GitHubContents({ apiUrl: settings.githubApiUrl, token: secrets.githubToken });
  // GitHub's rate limit resets within the hour; locally a retry a few seconds later is enough to show it.
  const ingestQueue = new LocalQueue<IngestMessage>({
    name: 'ingest',
    batchSize: 1,
    concurrency: 2,
    retryDelayMs: 5_000,
    maxReceives: 3,
  });
  ingestQueue.consume(createIngestHandler(async () => ({ ...ports, files, welcomes: composition.welcomes })));
  const resumed = await resumeUnfinished(composition, scheduler, sending.dispatchQueue);
  if (resumed > 0) logger.info('local.issues_resumed', { count: resumed });
  return {
    ingestQueue,
    scheduler,
    ports,
    github: { webhookSecret: async () => secrets.webhookSecret, ingestQueue },
    idle: () => ingestQueue.idle(),
    async stop() {
      scheduler.stop();
      await ingestQueue.stop();
      await renderer.stop();
    },
  };
}
