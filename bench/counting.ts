import type { AddressInfo } from 'node:net';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';

/**
 * Counting SES events (`npm run bench -- counting`): 10,000 SES events (deliveries, delays,
 * transient and permanent bounces, complaints) through the ses-events handler against dynalite,
 * counted the way the stack counts (the increments of one invocation merged, one UpdateItem ADD
 * per scope, DynamoCounterStore) and, as the baseline, one UpdateItem per increment. The figure
 * is DynamoDB requests to the counters table, counted by a middleware on the client, not time.
 * Each way counts its own post (the dedupe notes on the delivery records would stop a second run
 * counting anything), with the same events.
 *
 * Two shapes of invocation. As deployed, SES → SNS → the events queue → ses-events: batches
 * of SES_EVENTS_PER_BATCH (100) SNS envelopes through handleSesEventBatch, the Lambda entry's
 * path; the goal, at least 5× fewer requests, is for this shape. For comparison, SNS invoking
 * the function directly, one notification per invocation (the stack before the queue): merging
 * then only joins one event's own increments, so no goal.
 */
export interface CountingBenchResult {
  name: string;
  measured: string;
  baseline: string;
  ratio: number;
  goal: string;
  passed?: boolean;
}

const EVENTS = 10_000;
/** The mix of one send's events: mostly deliveries, a few of everything else. */
const MIX = { Delivery: 9_700, DeliveryDelay: 150, Transient: 100, Permanent: 40, Complaint: 10 } as const;
const CONCURRENT_INVOCATIONS = 16;
const TABLES = {
  subscribersTable: 'subscribers',
  issuesTable: 'issues',
  deliveriesTable: 'deliveries',
  countersTable: 'counters',
};

type Server = import('node:http').Server;

export async function runCountingBenchmark(): Promise<CountingBenchResult[]> {
  // Metrics would print their EMF lines for 10,000 events; the figure here is requests.
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const { dynamoClient } = await import('../functions/adapters/aws-clients');
  const { DynamoCounterStore } = await import('../functions/adapters/dynamodb/counter-store');
  const { DynamoIssueStore } = await import('../functions/adapters/dynamodb/issue-store');
  const { DynamoSubscriberStore } = await import('../functions/adapters/dynamodb/subscriber-store');
  const { logger } = await import('../functions/commons/logger');
  const { encodeTagValue, POST_TAG, SUBSCRIBER_TAG } = await import('../functions/delivery/message-tags');
  const { handleSesEventBatch, handleSesEvents, SES_EVENTS_PER_BATCH } = await import(
    '../functions/feedback/ses-notifications'
  );
  const { localTables } = await import('../functions/local/create-tables');
  const { ensureTables } = await import('../functions/local/dynalite-server');
  const { deriveKeys } = await import('../functions/subscribers/keys');
  type CounterStore = import('../functions/stats/counters').CounterStore;
  logger.setLogLevel('WARN');

  const database = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }) as unknown as Server;
  await new Promise<void>((resolve) => database.listen(0, '127.0.0.1', () => resolve()));
  const dynamo = dynamoClient({ dynamodb: `http://127.0.0.1:${(database.address() as AddressInfo).port}` });
  await ensureTables(dynamo, localTables(TABLES));
  const requests = countRequests(dynamo, TABLES.countersTable);
  const issues = new DynamoIssueStore(dynamo, TABLES);
  const subscribers = new DynamoSubscriberStore({
    client: dynamo,
    tableName: TABLES.subscribersTable,
    idKey: deriveKeys(Buffer.alloc(32, 7)).idKey,
    listName: 'newsletter',
    clock: { now: () => new Date() },
  });

  /** A post sent to EVENTS readers, and one SNS notification per reader in the mix. */
  async function sentPost(postId: string): Promise<string[]> {
    const kinds = Object.entries(MIX).flatMap(([kind, count]) => Array<string>(count).fill(kind));
    const notifications: string[] = [];
    const records: Parameters<typeof issues.markSentMany>[0] = [];
    for (const [index, kind] of kinds.entries()) {
      const email = `reader${index}@${postId}.example.org`;
      // Bounces and complaints find their subscriber; the other events only note the copy.
      const id =
        kind === 'Permanent' || kind === 'Transient' || kind === 'Complaint'
          ? (
              await subscribers.createIfAbsent({
                email,
                state: 'active',
                consent: { at: '2026-06-01T00:00:00Z', source: 'import' },
              })
            ).id
          : `R${String(index).padStart(21, '0')}`;
      const at = new Date().toISOString();
      records.push({ postId, subscriberId: id, claimedAt: at, sesMessageId: `ses-${index}`, sentAt: at });
      notifications.push(JSON.stringify(notification(kind, email, postId, id, index)));
    }
    await issues.markSentMany(records);
    return notifications;
  }

  function notification(kind: string, email: string, postId: string, subscriberId: string, index: number) {
    const mail = {
      messageId: `ses-${postId}-${index}`,
      timestamp: new Date().toISOString(),
      destination: [email],
      tags: { [POST_TAG]: [encodeTagValue(postId)], [SUBSCRIBER_TAG]: [encodeTagValue(subscriberId)] },
    };
    const recipients = [{ emailAddress: email }];
    switch (kind) {
      case 'Permanent':
      case 'Transient':
        return {
          eventType: 'Bounce',
          mail,
          bounce: { bounceType: kind, bouncedRecipients: recipients, feedbackId: `f-${index}` },
        };
      case 'Complaint':
        return { eventType: 'Complaint', mail, complaint: { complainedRecipients: recipients } };
      case 'DeliveryDelay':
        return { eventType: kind, mail, deliveryDelay: { delayType: 'MailboxFull', delayedRecipients: recipients } };
      default:
        return { eventType: kind, mail, delivery: { timestamp: mail.timestamp } };
    }
  }

  /** Counter requests to count a post's events, `perInvocation` at a time, with `counters`. */
  async function count(postId: string, perInvocation: number, counters: CounterStore): Promise<number> {
    const notifications = await sentPost(postId);
    const before = requests.count;
    let next = 0;
    // Invocations run side by side, as Lambda runs them.
    const invoke = async () => {
      while (next < notifications.length) {
        const start = next;
        next += perInvocation;
        const ports = { subscribers, issues, counters, timeZone: 'UTC' };
        const messages = notifications.slice(start, start + perInvocation);
        if (perInvocation === 1) {
          await handleSesEvents(ports, { Records: [{ Sns: { MessageId: `sns-${start}`, Message: messages[0] } }] });
          continue;
        }
        const Records = messages.map((Message, index) => ({
          messageId: `sqs-${start + index}`,
          body: JSON.stringify({ Type: 'Notification', MessageId: `sns-${start + index}`, Message }),
        }));
        const { batchItemFailures } = await handleSesEventBatch(ports, { Records });
        if (batchItemFailures.length > 0) throw new Error(`${batchItemFailures.length} events failed in a batch`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENT_INVOCATIONS }, invoke));
    return requests.count - before;
  }

  const merged = new DynamoCounterStore(dynamo, TABLES.countersTable);
  // The baseline: every increment its own UpdateItem, as a counter without merging writes it.
  const oneByOne: CounterStore = {
    add: async (increments) => {
      for (const increment of increments) await merged.add([increment]);
    },
    read: (scope) => merged.read(scope),
  };
  try {
    const results: CountingBenchResult[] = [];
    for (const [perInvocation, goal] of [
      [SES_EVENTS_PER_BATCH, 5],
      [1, undefined],
    ] as const) {
      const measured = await count(`merged-${perInvocation}`, perInvocation, merged);
      const baseline = await count(`one-by-one-${perInvocation}`, perInvocation, oneByOne);
      const ratio = Math.round((baseline / measured) * 100) / 100;
      // The counts themselves must agree, or fewer requests would mean nothing.
      const [a, b] = await Promise.all([
        merged.read(`post#merged-${perInvocation}`),
        merged.read(`post#one-by-one-${perInvocation}`),
      ]);
      const same = JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
      results.push({
        name: `${EVENTS} SES events, ${perInvocation} per invocation${perInvocation === 1 ? ' (SNS invoking the function, before the events queue)' : ' (the events queue, as deployed)'}`,
        measured: `${measured} counter requests`,
        baseline: `${baseline} one by one`,
        ratio,
        goal: goal === undefined ? 'none (one event per invocation: nothing to merge across)' : `≥ ${goal}× fewer`,
        ...(goal === undefined ? (same ? {} : { passed: false }) : { passed: same && ratio >= goal }),
      });
    }
    return results;
  } finally {
    dynamo.destroy();
    await new Promise((resolve) => database.close(resolve));
  }
}

/** Counts the requests the client sends that name `table` (one per command, retries aside). */
function countRequests(client: DynamoDBClient, table: string): { count: number } {
  const counter = { count: 0 };
  client.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { TableName?: string; RequestItems?: Record<string, unknown> };
      if (input.TableName === table || (input.RequestItems !== undefined && table in input.RequestItems))
        counter.count++;
      return next(args);
    },
    { step: 'initialize', name: 'countCounterRequests' },
  );
  return counter;
}

export function formatCountingTable(results: CountingBenchResult[]): string {
  return results
    .map(
      (result) =>
        `${result.name}: ${result.measured} vs ${result.baseline} (ratio ${result.ratio}, goal ${result.goal})${result.passed === undefined ? '' : result.passed ? ' ok' : ' MISSED'}`,
    )
    .join('\n');
}
