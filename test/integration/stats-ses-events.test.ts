import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoCounterStore } from '../../functions/adapters/dynamodb/counter-store';
import { encodeTagValue } from '../../functions/delivery/message-tags';
import { handleSesEvents, type SesEventDependencies, type SnsEvent } from '../../functions/feedback/ses-notifications';
import { buildStatsSnapshot } from '../../functions/stats/build-snapshot';
import { dayOf } from '../../functions/stats/counted';
import { CONFIGURATION_SET, createIssue, pipeline, type Stack, seedSubscribers, startStack } from './delivery-harness';

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
    postTag: encodeTagValue(postId),
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
