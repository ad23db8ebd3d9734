/**
 * A sender or dispatcher in a process of its own, so a test can kill it with SIGKILL at any
 * point, the way a Lambda dies on a timeout or an out-of-memory error. Run as
 * `node --import tsx delivery-child.ts '<json>'`.
 */
import { appendFileSync } from 'node:fs';
import { dynamoClient, sesClient } from '../../functions/adapters/aws-clients';
import { DynamoIssueStore } from '../../functions/adapters/dynamodb/issue-store';
import { SharedRateLimiter } from '../../functions/adapters/dynamodb/shared-rate-limiter';
import { DynamoSubscriberStore } from '../../functions/adapters/dynamodb/subscriber-store';
import { SesMailer } from '../../functions/adapters/ses-mailer';
import type { Clock } from '../../functions/commons/clock';
import type { Queue } from '../../functions/commons/queue';
import type { DispatchJob, SendJob } from '../../functions/contract/messages';
import { DeliveryWorker, jobsFromRecords } from '../../functions/delivery/delivery-worker';
import { dispatchIssue } from '../../functions/delivery/dispatcher';
import { UNSUBSCRIBE_URL_PLACEHOLDER } from '../../functions/render/types';
import { deriveKeys, SubscriberTokens } from '../../functions/subscribers/tokens';

export interface ChildTask {
  mode: 'send' | 'dispatch';
  dynamoUrl: string;
  sesUrl: string;
  masterKey: string;
  tables: { subscribersTable: string; issuesTable: string; deliveriesTable: string };
  /** send: the queue records this invocation received. */
  records?: { messageId: string; body: string }[];
  concurrency?: number;
  /** dispatch: the post, and the file standing in for the send queue (one message a line). */
  postId?: string;
  queueFile?: string;
  pageSize?: number;
  recipientsPerMessage?: number;
  /**
   * dispatch: once the queue file holds this many messages the dispatcher stops where it is
   * (never returning from the send), so a kill lands at exactly that point however slow the
   * machine is.
   */
  freezeAfterRecipients?: number;
}

const task = JSON.parse(process.argv[2]!) as ChildTask;
const clock: Clock = { now: () => new Date() };
const dynamo = dynamoClient({ dynamodb: task.dynamoUrl });
const keys = deriveKeys(Buffer.from(task.masterKey, 'base64'));
const subscribers = new DynamoSubscriberStore({
  client: dynamo,
  tableName: task.tables.subscribersTable,
  idKey: keys.idKey,
  listName: 'newsletter',
  clock,
});
const issues = new DynamoIssueStore(dynamo, task.tables);

if (task.mode === 'send') {
  const tokens = new SubscriberTokens(keys.tokenKey, clock);
  const sender = new DeliveryWorker(
    {
      issues,
      subscribers,
      recipientLinks: (id) => ({
        [UNSUBSCRIBE_URL_PLACEHOLDER]: `http://newsletter.test/unsubscribe?token=${tokens.issue('unsubscribe', id)}`,
      }),
      mailer: new SesMailer(sesClient({ ses: task.sesUrl }), 'pushletter-test'),
      rateLimiter: new SharedRateLimiter({ dynamo, table: task.tables.deliveriesTable, rate: 1_000 }),
      clock,
    },
    { concurrency: task.concurrency ?? 8 },
  );
  const result = await sender.sendBatch(jobsFromRecords(task.records ?? []));
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  let written = 0;
  const sendQueue: Queue<SendJob> = {
    async send(messages) {
      for (const message of messages) appendFileSync(task.queueFile!, `${JSON.stringify(message)}\n`);
      written += messages.reduce((sum, message) => sum + message.subscriberIds.length, 0);
      if (task.freezeAfterRecipients !== undefined && written >= task.freezeAfterRecipients) {
        // An interval keeps the process alive while it waits for the test's SIGKILL.
        await new Promise(() => setInterval(() => undefined, 60_000));
      }
    },
  };
  const dispatchQueue: Queue<DispatchJob> = { send: async () => undefined };
  const outcome = await dispatchIssue({ issues, subscribers, sendQueue, dispatchQueue, clock }, task.postId!, {
    pageSize: task.pageSize,
    recipientsPerMessage: task.recipientsPerMessage,
  });
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
}
dynamo.destroy();
