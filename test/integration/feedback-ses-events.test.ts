import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { issueStatus } from '../../functions/delivery/delivery-status';
import { encodeTagValue } from '../../functions/delivery/message-tags';
import {
  handleSesEventBatch,
  handleSesEvents,
  type SesEventDependencies,
  type SnsEvent,
} from '../../functions/feedback/ses-notifications';
import {
  CONFIGURATION_SET,
  clearEmails,
  copiesByAddress,
  createIssue,
  pipeline,
  type Stack,
  seedSubscribers,
  startStack,
  storedEmails,
} from './delivery-harness';
import { queueBatch, snsEnvelope } from './ses-event-queue';

const FIXTURES = new URL('../fixtures/ses-events/', import.meta.url);

/** A fixture SES event, filled in and wrapped the way SNS delivers it to a Lambda. */
function snsEvent(fixture: string, values: Record<string, string>): SnsEvent {
  const message = readFileSync(new URL(fixture, FIXTURES), 'utf8').replace(
    /\{\{(\w+)\}\}/g,
    (_, key: string) => values[key] ?? '',
  );
  JSON.parse(message);
  const envelope = JSON.parse(readFileSync(new URL('sns-envelope.json', FIXTURES), 'utf8')) as {
    Records: { Sns: { Message: string } }[];
  };
  envelope.Records[0]!.Sns.Message = message;
  return envelope as SnsEvent;
}

let stack: Stack;
let people: { id: string; email: string; state: string }[];
let ports: SesEventDependencies;
const postId = '2026-11-26-feedback';

function eventFor(
  fixture: string,
  person: { id: string; email: string },
  overrides: Record<string, string> = {},
): SnsEvent {
  return snsEvent(fixture, {
    address: person.email,
    configurationSet: CONFIGURATION_SET,
    postTag: encodeTagValue(postId),
    subscriberTag: encodeTagValue(person.id),
    ...overrides,
  });
}

beforeAll(async () => {
  stack = await startStack();
  people = await seedSubscribers(stack, 6);
  ports = { subscribers: stack.subscribers, issues: stack.issues, configurationSet: CONFIGURATION_SET };
  const run = pipeline(stack);
  await createIssue(stack, postId);
  await run.dispatch(postId);
  await run.idle();
});

afterAll(async () => {
  await stack?.close();
});

beforeEach(async () => {
  await clearEmails(stack.sesUrl);
});

describe('SES bounce and complaint events', () => {
  it('suppresses a permanently bounced address and a complainer, counts a transient bounce, and never mails the first two again', async () => {
    const [bouncer, complainer, fullMailbox] = people as [(typeof people)[0], (typeof people)[0], (typeof people)[0]];
    expect(await handleSesEvents(ports, eventFor('bounce-permanent.json', bouncer))).toEqual(['suppressed']);
    expect(await handleSesEvents(ports, eventFor('complaint.json', complainer))).toEqual(['suppressed']);
    expect(await handleSesEvents(ports, eventFor('bounce-transient.json', fullMailbox))).toEqual(['counted']);

    expect((await stack.subscribers.get(bouncer.id))?.state).toBe('bounced');
    expect((await stack.subscribers.get(complainer.id))?.state).toBe('complained');
    expect((await stack.subscribers.get(fullMailbox.id))?.state).toBe('active');

    const status = await issueStatus(stack.issues, postId, new Date());
    expect(status!.counts).toMatchObject({ sent: 6, bounced: 1, complained: 1, transientBounces: 1 });

    // The next post reaches the other four only.
    const run = pipeline(stack);
    await createIssue(stack, '2026-11-27-next');
    await run.dispatch('2026-11-27-next');
    await run.idle();
    const copies = copiesByAddress(await storedEmails(stack.sesUrl));
    expect(copies.has(bouncer.email)).toBe(false);
    expect(copies.has(complainer.email)).toBe(false);
    expect([...copies.keys()].sort()).toEqual(
      people
        .slice(2)
        .map((person) => person.email)
        .sort(),
    );
  });

  it('handles an event SNS delivers twice as one', async () => {
    const person = people[3]!;
    const event = eventFor('bounce-transient.json', person);
    await handleSesEvents(ports, event);
    await handleSesEvents(ports, event);
    const delivery = await stack.issues.getDelivery(postId, person.id);
    expect(delivery?.transientBounces).toHaveLength(1);
    await handleSesEvents(ports, eventFor('complaint.json', person));
    await handleSesEvents(ports, eventFor('complaint.json', person));
    expect((await stack.subscribers.get(person.id))?.state).toBe('complained');
    // A bounce arriving after the complaint does not soften it.
    await handleSesEvents(ports, eventFor('bounce-permanent.json', person));
    expect((await stack.subscribers.get(person.id))?.state).toBe('complained');
  });

  it('finds the subscriber by address when the event carries no pushletter tags (identity notifications)', async () => {
    const person = people[4]!;
    const event = eventFor('bounce-permanent.json', person, { postTag: '', subscriberTag: '' });
    expect(await handleSesEvents(ports, event)).toEqual(['suppressed']);
    expect((await stack.subscribers.get(person.id))?.state).toBe('bounced');
  });

  it('ignores events of another configuration set and of unknown addresses, and logs malformed ones without throwing', async () => {
    const person = people[5]!;
    expect(
      await handleSesEvents(ports, eventFor('complaint.json', person, { configurationSet: 'someone-elses-set' })),
    ).toEqual(['ignored']);
    expect(
      await handleSesEvents(
        ports,
        eventFor('complaint.json', { id: 'AAAAAAAAAAAAAAAAAAAAAA', email: 'stranger@example.org' }),
      ),
    ).toEqual(['ignored']);
    // A tag naming one subscriber does not let an event about another address suppress them.
    expect(
      await handleSesEvents(ports, eventFor('complaint.json', { id: person.id, email: 'stranger@example.org' })),
    ).toEqual(['ignored']);
    expect((await stack.subscribers.get(person.id))?.state).toBe('active');

    const broken: SnsEvent = {
      Records: [
        { Sns: { MessageId: 'm-1', Message: '{"eventType": "Bounce", "bounce": ' } },
        { Sns: { MessageId: 'm-2', Message: '"just a string"' } },
        { Sns: { MessageId: 'm-3', Message: '{"eventType":"Bounce","bounce":{"bounceType":"Permanent"}}' } },
      ],
    };
    expect(await handleSesEvents(ports, broken)).toEqual(['malformed', 'malformed', 'malformed']);
    expect(await handleSesEvents(ports, {} as SnsEvent)).toEqual([]);
    expect(
      await handleSesEvents(ports, eventFor('bounce-permanent.json', person, { address: 'not-an-address' })),
    ).toEqual(['ignored']);
    expect((await stack.subscribers.get(person.id))?.state).toBe('active');
  });

  it('records feedback on a post whose slug is too long for an SES tag, which is tagged with its hash', async () => {
    const person = people[2]!;
    const longId = `2026-11-28-${'一个很长的中文标题'.repeat(8)}`;
    await createIssue(stack, longId);
    const run = pipeline(stack);
    await run.dispatch(longId);
    await run.idle();
    expect((await stack.issues.getDelivery(longId, person.id))?.state).toBe('sent');

    const tag = encodeTagValue(longId);
    expect(tag.length).toBeLessThanOrEqual(256);
    // The post is found by one read of the item its issue wrote for the tag, never by a scan of
    // the issues table (which the deployed function may not do).
    const calls: string[] = [];
    stack.dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        calls.push(`${context.commandName} ${(args.input as { TableName?: string }).TableName ?? ''}`);
        return next(args);
      },
      { step: 'initialize', name: 'recordCalls' },
    );
    try {
      expect(await handleSesEvents(ports, eventFor('bounce-transient.json', person, { postTag: tag }))).toEqual([
        'counted',
      ]);
    } finally {
      stack.dynamo.middlewareStack.remove('recordCalls');
    }
    expect(calls.filter((call) => call.endsWith(` ${stack.tables.issuesTable}`))).toEqual([
      `GetItemCommand ${stack.tables.issuesTable}`,
    ]);
    expect(calls.some((call) => call.startsWith('Scan'))).toBe(false);
    expect((await stack.issues.getDelivery(longId, person.id))?.transientBounces).toHaveLength(1);
    expect(await handleSesEvents(ports, eventFor('complaint.json', person, { postTag: tag }))).toEqual(['suppressed']);
    expect((await stack.issues.getDelivery(longId, person.id))?.complaint).toBe(true);
    // Another post's deliveries are untouched.
    expect((await stack.issues.getDelivery(postId, person.id))?.complaint).toBeUndefined();

    // A hash no issue of ours wrote names no post: the event is still handled, no delivery marked.
    const unknown = encodeTagValue(`2026-11-29-${'另一个很长的中文标题'.repeat(8)}`);
    expect(await stack.issues.postIdOfTag(unknown)).toBeUndefined();
    expect(await handleSesEvents(ports, eventFor('bounce-transient.json', people[5]!, { postTag: unknown }))).toEqual([
      'counted',
    ]);
  });

  it('ignores a recipient address we would never accept, instead of failing the event into retries', async () => {
    const person = people[5]!;
    for (const address of ['two@@example.com', 'reader@localhost', 'reader@exa mple.com']) {
      expect(await handleSesEvents(ports, eventFor('bounce-permanent.json', person, { address }))).toEqual(['ignored']);
      expect(await handleSesEvents(ports, eventFor('complaint.json', person, { address }))).toEqual(['ignored']);
    }
    expect((await stack.subscribers.get(person.id))?.state).toBe('active');
  });

  it('from the events queue: suppresses through the SNS envelope, drops a malformed SES event, sends back a body that is no SNS notification', async () => {
    const person = people[5]!;
    const complaint = eventFor('complaint.json', person);
    const raw = complaint.Records![0]!.Sns!.Message!;
    // Raw message delivery turned on by hand: the body is the SES event itself. Retrying cannot
    // help, but dropping would lose the event: it goes back, then to the dead-letter queue.
    const unreadable = {
      Records: [
        { messageId: 'raw-1', body: raw },
        { messageId: 'raw-2', body: 'not json' },
      ],
    };
    expect(await handleSesEventBatch(ports, unreadable)).toEqual({
      batchItemFailures: [{ itemIdentifier: 'raw-1' }, { itemIdentifier: 'raw-2' }],
    });
    expect((await stack.subscribers.get(person.id))?.state).toBe('active');

    // An SES event we cannot read, inside a good envelope, is logged and dropped like over SNS.
    const malformed = { Records: [{ messageId: 'bad-1', body: snsEnvelope('{"eventType": "Bounce", "bounce": ') }] };
    expect(await handleSesEventBatch(ports, malformed)).toEqual({ batchItemFailures: [] });

    expect(await handleSesEventBatch(ports, queueBatch([complaint]))).toEqual({ batchItemFailures: [] });
    expect((await stack.subscribers.get(person.id))?.state).toBe('complained');
  });
});
