import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SharedRateLimiter } from '../../functions/adapters/dynamodb/shared-rate-limiter';
import type { Queue } from '../../functions/commons/queue';
import type { SendJob } from '../../functions/contract/messages';
import type { Claim, Ledger } from '../../functions/delivery/claims';
import { issueStatus, UNKNOWN_AFTER_MS } from '../../functions/delivery/delivery-status';
import {
  DeliveryWorker,
  type DeliveryWorkerDependencies,
  jobsFromRecords,
} from '../../functions/delivery/delivery-worker';
import { encodeTagValue, POST_TAG, SUBSCRIBER_TAG } from '../../functions/delivery/message-tags';
import { handleSesEvents, type SesEventDependencies } from '../../functions/feedback/ses-notifications';
import { sendEventOf } from '../../functions/local/ses-emulator';
import {
  clearEmails,
  copiesByAddress,
  createIssue,
  type Stack,
  seedSubscribers,
  sesMailer,
  startStack,
  storedEmails,
} from './delivery-harness';

const RESEND_AFTER_MS = 15 * 60 * 1000;
const MINUTE = 60 * 1000;

let stack: Stack;
let people: { id: string; email: string }[];

beforeAll(async () => {
  stack = await startStack();
  people = await seedSubscribers(stack, 6);
});

afterAll(async () => {
  await stack?.close();
});

beforeEach(async () => {
  await clearEmails(stack.sesUrl);
});

/** A follow-up queue that keeps what it is given, with the delay asked for. */
function followUpQueue(): Queue<SendJob> & { sent: { job: SendJob; delayMs?: number }[] } {
  const sent: { job: SendJob; delayMs?: number }[] = [];
  return {
    sent,
    send: async (messages, options) => void sent.push(...messages.map((job) => ({ job, delayMs: options?.delayMs }))),
  };
}

function sender(followUps: Queue<SendJob>, overrides: Partial<DeliveryWorkerDependencies> = {}): DeliveryWorker {
  return new DeliveryWorker({
    issues: stack.issues,
    subscribers: stack.subscribers,
    recipientLinks: stack.recipientLinks,
    mailer: sesMailer(stack.sesUrl),
    rateLimiter: new SharedRateLimiter({ dynamo: stack.dynamo, table: stack.tables.deliveriesTable, rate: 1_000 }),
    clock: { now: () => new Date() },
    sendEvents: { resendAfterMs: RESEND_AFTER_MS, followUps },
    ...overrides,
  });
}

/** A post with one claim bucket, and a claim on `person` as a sender that then died left it. */
async function claimedByDeadSender(
  postId: string,
  person: { id: string },
  claimedAgoMs: number,
  sendEvents = true,
): Promise<Ledger> {
  await createIssue(stack, postId);
  const buckets = await stack.issues.fixClaimBuckets(postId, 1);
  const ledger = { postId, bucket: 0, buckets };
  const claim: Claim = {
    claimedAt: new Date(Date.now() - claimedAgoMs).toISOString(),
    token: randomUUID(),
    ...(sendEvents ? { sendEvents: true } : {}),
  };
  expect(await stack.issues.claim(ledger, [person.id], claim)).toBe(true);
  return ledger;
}

function redelivered(ledger: Ledger, subscriberIds: string[]) {
  const job: SendJob = { postId: ledger.postId, bucket: ledger.bucket, buckets: ledger.buckets, subscriberIds };
  return jobsFromRecords([{ messageId: randomUUID(), body: JSON.stringify(job) }]);
}

function sendEvent(postId: string, person: { id: string; email: string }, messageId: string = randomUUID()) {
  return sendEventOf({
    messageId,
    timestamp: new Date().toISOString(),
    destination: [person.email],
    tags: { [POST_TAG]: encodeTagValue(postId), [SUBSCRIBER_TAG]: encodeTagValue(person.id) },
  });
}

const eventPorts = (): SesEventDependencies => ({ subscribers: stack.subscribers, issues: stack.issues });

describe('a recipient whose sender died after claiming it', () => {
  it("is recorded sent by SES's Send event, once, however often SNS delivers the event", async () => {
    const postId = '2026-12-01-send-event-twice';
    const person = people[0]!;
    await claimedByDeadSender(postId, person, 2 * MINUTE);
    const event = sendEvent(postId, person, 'ses-message-1');
    expect(await handleSesEvents(eventPorts(), event)).toEqual(['recorded']);
    expect(await handleSesEvents(eventPorts(), event)).toEqual(['ignored']);
    expect(await stack.issues.getDelivery(postId, person.id)).toMatchObject({
      state: 'sent',
      sesMessageId: 'ses-message-1',
    });
    const status = await issueStatus(stack.issues, postId, new Date());
    expect(status!.counts).toMatchObject({ sent: 1, sending: 0, unknown: 0 });
  });

  it('with a Send event, is never sent again when its message comes back', async () => {
    const postId = '2026-12-01-accepted-before-crash';
    const person = people[1]!;
    const ledger = await claimedByDeadSender(postId, person, 30 * MINUTE);
    await handleSesEvents(eventPorts(), sendEvent(postId, person));
    const followUps = followUpQueue();
    const result = await sender(followUps).sendBatch(redelivered(ledger, [person.id]));
    expect(result.counts).toMatchObject({ sent: 0, duplicate: 1 });
    expect(await storedEmails(stack.sesUrl)).toHaveLength(0);
    expect(followUps.sent).toEqual([]);
    expect((await stack.issues.getDelivery(postId, person.id))?.state).toBe('sent');
  });

  it('without a Send event past the grace period, is sent again exactly once, even by two senders at the same moment', async () => {
    const postId = '2026-12-01-never-accepted';
    const person = people[2]!;
    const ledger = await claimedByDeadSender(postId, person, RESEND_AFTER_MS + MINUTE);
    const followUps = followUpQueue();
    // SQS delivered the dead sender's message twice; two senders resolve it at once.
    const results = await Promise.all([
      sender(followUps).sendBatch(redelivered(ledger, [person.id])),
      sender(followUps).sendBatch(redelivered(ledger, [person.id])),
    ]);
    expect(results.map((result) => result.counts.sent).sort()).toEqual([0, 1]);
    expect(results.map((result) => result.counts.duplicate).sort()).toEqual([0, 1]);
    expect(copiesByAddress(await storedEmails(stack.sesUrl))).toEqual(new Map([[person.email, 1]]));
    expect((await stack.issues.getDelivery(postId, person.id))?.state).toBe('sent');
    // A third delivery of the message finds it sent.
    expect((await sender(followUps).sendBatch(redelivered(ledger, [person.id]))).counts).toMatchObject({
      sent: 0,
      duplicate: 1,
    });
    expect(await storedEmails(stack.sesUrl)).toHaveLength(1);
    expect(followUps.sent).toEqual([]);
  });

  it('within the grace period, is left alone and comes back in a follow-up message once it can be decided', async () => {
    const postId = '2026-12-01-recent-claim';
    const [person, other] = [people[3]!, people[4]!];
    const ledger = await claimedByDeadSender(postId, person, 2 * MINUTE);
    const followUps = followUpQueue();
    const result = await sender(followUps).sendBatch(redelivered(ledger, [person.id, other.id]));
    expect(result.counts).toMatchObject({ sent: 1, pending: 1 });
    expect(result.retryMessageIds).toEqual([]);
    expect(copiesByAddress(await storedEmails(stack.sesUrl))).toEqual(new Map([[other.email, 1]]));
    expect(followUps.sent).toHaveLength(1);
    expect(followUps.sent[0]!.job).toEqual({ postId, bucket: 0, buckets: ledger.buckets, subscriberIds: [person.id] });
    // Due 13 minutes from now (15 after the claim), give or take the test's own run time.
    expect(followUps.sent[0]!.delayMs).toBeGreaterThan(12 * MINUTE);
    expect(followUps.sent[0]!.delayMs).toBeLessThanOrEqual(13 * MINUTE + 1_000);
    const status = await issueStatus(stack.issues, postId, new Date(), undefined, RESEND_AFTER_MS);
    expect(status!.counts).toMatchObject({ sent: 1, sending: 1, unknown: 0 });
    expect(status!.resolving?.count).toBe(1);
    expect(status!.done).toBe(false);
  });

  it('claimed before Send events were published, stays unknown and is never sent again', async () => {
    const postId = '2026-12-01-claimed-before-send-events';
    const person = people[5]!;
    const ledger = await claimedByDeadSender(postId, person, UNKNOWN_AFTER_MS + MINUTE, false);
    const followUps = followUpQueue();
    expect((await sender(followUps).sendBatch(redelivered(ledger, [person.id]))).counts).toMatchObject({
      sent: 0,
      duplicate: 1,
    });
    expect(await storedEmails(stack.sesUrl)).toHaveLength(0);
    expect(followUps.sent).toEqual([]);
    expect((await issueStatus(stack.issues, postId, new Date()))!.counts).toMatchObject({ unknown: 1, sending: 0 });
  });

  it('a live sender whose claim aged past half the grace period renews it before calling SES, and sends nothing if it was taken over', async () => {
    const postId = '2026-12-01-slow-rate-slot';
    const [patient, overtaken] = [people[0]!, people[1]!];
    await createIssue(stack, postId);
    const ledger = { postId, bucket: 0, buckets: await stack.issues.fixClaimBuckets(postId, 1) };
    // The rate slot comes 8 minutes after the claim (more than half of 15).
    let offsetMs = 0;
    const clock = { now: () => new Date(Date.now() + offsetMs) };
    const slowSlot = { acquire: async () => void (offsetMs += 8 * MINUTE) };
    const first = await sender(followUpQueue(), { clock, rateLimiter: slowSlot }).sendBatch(
      redelivered(ledger, [patient.id]),
    );
    expect(first.counts).toMatchObject({ sent: 1 });
    expect(copiesByAddress(await storedEmails(stack.sesUrl))).toEqual(new Map([[patient.email, 1]]));
    const renewed = (await stack.issues.readClaims(ledger)).get(patient.id)!;
    expect(Date.parse(renewed.claimedAt)).toBeGreaterThanOrEqual(Date.now() + 8 * MINUTE - MINUTE);

    // While this sender waits, another takes its claim over (it looked dead): this one stands down.
    const takeOver = {
      acquire: async () => {
        offsetMs += 8 * MINUTE;
        const held = (await stack.issues.readClaims(ledger)).get(overtaken.id)!;
        expect(
          await stack.issues.takeOverClaim(ledger, overtaken.id, held, {
            claimedAt: new Date().toISOString(),
            token: 'other',
            sendEvents: true,
          }),
        ).toBe(true);
      },
    };
    offsetMs = 0;
    const second = await sender(followUpQueue(), { clock, rateLimiter: takeOver }).sendBatch(
      redelivered(ledger, [overtaken.id]),
    );
    expect(second.counts).toMatchObject({ sent: 0, duplicate: 1 });
    expect(copiesByAddress(await storedEmails(stack.sesUrl)).get(overtaken.email)).toBeUndefined();
  });
});
