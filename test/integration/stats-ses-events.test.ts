import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoCounterStore } from '../../functions/adapters/dynamodb/counter-store';
import { encodeTagValue } from '../../functions/delivery/message-tags';
import {
  handleSesEventBatch,
  handleSesEvents,
  type SesEventDependencies,
  type SnsEvent,
} from '../../functions/feedback/ses-notifications';
import { buildStatsSnapshot } from '../../functions/stats/build-snapshot';
import { dayOf } from '../../functions/stats/counted';
import { CONFIGURATION_SET, createIssue, pipeline, type Stack, seedSubscribers, startStack } from './delivery-harness';
import { queueBatch } from './ses-event-queue';

/**
 * SES's notifications, SNS-wrapped as a Lambda gets them, counted on the post and the list's
 * day over dynalite: each once, however often SNS delivers it.
 */
const FIXTURES = new URL('../fixtures/ses-events/', import.meta.url);
const postId = '2026-11-26-counted';
const TIME_ZONE = 'Asia/Shanghai';

let stack: Stack;
let people: { id: string; email: string }[];
let ports: SesEventDependencies;
let counters: DynamoCounterStore;

function eventFor(fixture: string, person: { id: string; email: string }, overrides: Record<string, string> = {}) {
  const values: Record<string, string> = {
    address: person.email,
    configurationSet: CONFIGURATION_SET,
    postTag: encodeTagValue(overrides.postId ?? postId),
    subscriberTag: encodeTagValue(person.id),
    messageId: `0100017f-${person.id}`,
    ...overrides,
  };
  const message = readFileSync(new URL(fixture, FIXTURES), 'utf8').replace(/\{\{(\w+)\}\}/g, (_, key) => values[key]!);
  const envelope = JSON.parse(readFileSync(new URL('sns-envelope.json', FIXTURES), 'utf8')) as {
    Records: { Sns: { Message: string } }[];
  };
  envelope.Records[0]!.Sns.Message = message;
  return envelope as SnsEvent;
}

/** SNS delivers at least once: every event here arrives twice, the second time as the first. */
async function deliverTwice(event: SnsEvent): Promise<string[]> {
  const first = await handleSesEvents(ports, event);
  await handleSesEvents(ports, event);
  return first;
}

beforeAll(async () => {
  stack = await startStack();
  people = await seedSubscribers(stack, 8);
  counters = new DynamoCounterStore(stack.dynamo, 'counters');
  ports = {
    subscribers: stack.subscribers,
    issues: stack.issues,
    configurationSet: CONFIGURATION_SET,
    counters,
    timeZone: TIME_ZONE,
  };
  await createIssue(stack, postId);
  const run = pipeline(stack);
  await run.dispatch(postId);
  await run.idle();
});

afterAll(async () => {
  await stack?.close();
});

describe('counting SES events', () => {
  it('counts each delivery, bounce, complaint, rejection and delay once on its post, however often SNS delivers it', async () => {
    const [delivered, bounced, complained, mailboxFull, rejected, delayed] = people;
    expect(await deliverTwice(eventFor('delivery.json', delivered!))).toEqual(['counted']);
    expect(await deliverTwice(eventFor('bounce-permanent.json', bounced!))).toEqual(['suppressed']);
    expect(await deliverTwice(eventFor('complaint.json', complained!))).toEqual(['suppressed']);
    expect(await deliverTwice(eventFor('bounce-transient.json', mailboxFull!))).toEqual(['counted']);
    expect(await deliverTwice(eventFor('reject.json', rejected!))).toEqual(['counted']);
    expect(await deliverTwice(eventFor('delivery-delay.json', delayed!))).toEqual(['counted']);
    // Delayed, then delivered after all: one of each.
    expect(await deliverTwice(eventFor('delivery.json', delayed!))).toEqual(['counted']);

    const snapshot = await buildStatsSnapshot(
      {
        counters,
        issues: stack.issues,
        subscribers: stack.subscribers,
        site: { title: 'Counted', timezone: TIME_ZONE },
      },
      { postId },
    );
    expect(snapshot.posts).toEqual([
      expect.objectContaining({
        postId,
        title: 'Test post',
        recipients: 8,
        delivered: 2,
        bounced: { permanent: 1, transient: 1 },
        complained: 1,
        rejected: 1,
        delayed: 1,
      }),
    ]);
    // The list's day (in the site's time zone): one bounce, one complaint, both readers gone.
    const today = snapshot.list.at(-1)!;
    expect(today).toMatchObject({ date: dayOf(new Date(), TIME_ZONE), bounces: 1, complaints: 1, active: 6 });
  });

  it('counts a bounce without pushletter tags on the list (the subscriber is found by address), not on a post', async () => {
    const person = people[6]!;
    const before = await counters.read(`post#${postId}`);
    const event = eventFor('bounce-permanent.json', person, { postTag: '', subscriberTag: '' });
    expect(await deliverTwice(event)).toEqual(['suppressed']);
    expect(await counters.read(`post#${postId}`)).toEqual(before);
    const day = await counters.read(`day#${dayOf(new Date(), TIME_ZONE)}`);
    expect(day).toMatchObject({ bounces: 2, complaints: 1, 'active.left': 3 });
  });

  it('counts nothing for an event of another configuration set, or a delivery of a copy it has no record of', async () => {
    const before = await counters.read(`post#${postId}`);
    const person = people[7]!;
    expect(
      await handleSesEvents(ports, eventFor('delivery.json', person, { configurationSet: 'someone-elses-set' })),
    ).toEqual(['ignored']);
    expect(
      await handleSesEvents(ports, eventFor('delivery.json', person, { postTag: encodeTagValue('2026-01-01-never') })),
    ).toEqual(['ignored']);
    expect(await counters.read(`post#${postId}`)).toEqual(before);
  });
});

describe('counting a batch from the events queue (SES → SNS → SQS → ses-events)', () => {
  /** A post sent to whoever is still active, and those readers. */
  async function sentPost(id: string): Promise<{ id: string; email: string }[]> {
    await createIssue(stack, id);
    const run = pipeline(stack);
    await run.dispatch(id);
    await run.idle();
    const active = [];
    for (const person of people) if ((await stack.subscribers.get(person.id))?.state === 'active') active.push(person);
    return active;
  }

  /** UpdateItem requests to the counters table while `work` runs. */
  async function counterWrites(work: () => Promise<unknown>): Promise<number> {
    let writes = 0;
    stack.dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        if (
          context.commandName === 'UpdateItemCommand' &&
          (args.input as { TableName?: string }).TableName === 'counters'
        )
          writes++;
        return next(args);
      },
      { step: 'initialize', name: 'countCounterWrites' },
    );
    try {
      await work();
    } finally {
      stack.dynamo.middlewareStack.remove('countCounterWrites');
    }
    return writes;
  }

  it("adds the whole batch's counts in one write per scope, and counts a notification in it twice only once", async () => {
    const batchPost = '2026-11-27-batched';
    const readers = await sentPost(batchPost);
    expect(readers.length).toBeGreaterThanOrEqual(4);
    const [first, second, third] = readers as [(typeof readers)[0], ...typeof readers];
    const events = [
      ...readers.map((reader) => eventFor('delivery.json', reader, { postId: batchPost })),
      eventFor('delivery-delay.json', second!, { postId: batchPost }),
      eventFor('bounce-transient.json', third!, { postId: batchPost }),
      // SNS delivered this one twice, and both copies landed in the same batch.
      eventFor('delivery.json', first, { postId: batchPost }),
    ];
    let answer: Awaited<ReturnType<typeof handleSesEventBatch>> | undefined;
    const writes = await counterWrites(async () => {
      answer = await handleSesEventBatch(ports, queueBatch(events));
    });
    expect(answer).toEqual({ batchItemFailures: [] });
    // Every count of the batch is on the post: one UpdateItem, not one per event.
    expect(writes).toBe(1);
    expect(await counters.read(`post#${batchPost}`)).toMatchObject({
      delivered: readers.length,
      delayed: 1,
      'bounced.transient': 1,
    });

    // SQS delivers the batch again: nothing more is counted, and nothing is written to count it.
    expect(await counterWrites(() => handleSesEventBatch(ports, queueBatch(events)))).toBe(0);
    expect((await counters.read(`post#${batchPost}`)).delivered).toBe(readers.length);
  });

  it('sends back only the event whose write failed; the others are counted once, and so is that one on its retry', async () => {
    const failingPost = '2026-11-28-one-fails';
    const readers = await sentPost(failingPost);
    const unlucky = readers[1]!;
    // DynamoDB refusing one write (throttled, say), which dynalite cannot be made to do for one item.
    const issues = stack.issues;
    const flaky: SesEventDependencies = {
      ...ports,
      issues: {
        postIdOfTag: (tag) => issues.postIdOfTag(tag),
        recordAccepted: (...args) => issues.recordAccepted(...args),
        recordFeedback: async (post, subscriberId, feedback) => {
          if (subscriberId === unlucky.id)
            throw Object.assign(new Error('Throughput exceeds the current capacity'), {
              name: 'ThrottlingException',
            });
          return issues.recordFeedback(post, subscriberId, feedback);
        },
      },
    };
    const batch = queueBatch(readers.map((reader) => eventFor('delivery.json', reader, { postId: failingPost })));
    const answer = await handleSesEventBatch(flaky, batch);
    expect(answer.batchItemFailures).toEqual([{ itemIdentifier: batch.Records[1]!.messageId }]);
    expect((await counters.read(`post#${failingPost}`)).delivered).toBe(readers.length - 1);

    // SQS makes the failed message visible again; this time the write goes through.
    const retry = { Records: [batch.Records[1]!] };
    expect(await handleSesEventBatch(ports, retry)).toEqual({ batchItemFailures: [] });
    expect(await handleSesEventBatch(ports, batch)).toEqual({ batchItemFailures: [] });
    expect((await counters.read(`post#${failingPost}`)).delivered).toBe(readers.length);
  });
});
