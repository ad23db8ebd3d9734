import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sesClient } from '../../functions/adapters/aws-clients';
import { resolveSendRate, SharedRateLimiter } from '../../functions/adapters/dynamodb/shared-rate-limiter';
import type { DispatchJob, SendJob } from '../../functions/contract/messages';
import { bucketOf } from '../../functions/delivery/claims';
import { dispatchIssue } from '../../functions/delivery/dispatcher';
import { seededBytes } from '../seeded-random';
import {
  createIssue,
  pipeline,
  type Stack,
  seedSubscribers,
  startFaultProxy,
  startStack,
  TestQueue,
  testMessage,
} from './delivery-harness';

/** Ids and noise from a fixed seed: the same on every run. */
const randomBytes = seededBytes(10);

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
  await seedSubscribers(stack, 250);
});

afterAll(async () => {
  await stack?.close();
});

describe('the dispatcher', () => {
  it('stops before its deadline, asks for its own continuation, and the continuation finishes the post', async () => {
    const postId = '2026-11-26-long-list';
    await createIssue(stack, postId);
    const run = pipeline(stack);
    const sendQueue = new TestQueue<SendJob>();
    const dispatchQueue = new TestQueue<DispatchJob>();
    let remaining = 60_000;
    const ports = { ...run.dispatchPorts, sendQueue, dispatchQueue, remainingMs: () => remaining };
    // The first invocation has time for one page of 100 before the deadline comes close.
    const first = dispatchIssue(ports, postId, { pageSize: 100, stopBeforeDeadlineMs: 30_000 });
    remaining = 10_000;
    expect(await first).toEqual({ status: 'continued', enqueued: 100 });
    const continuation = dispatchQueue.receive();
    expect(continuation.map((record) => JSON.parse(record.body))).toEqual([{ postId }]);

    remaining = 60_000;
    expect(await dispatchIssue(ports, postId, { pageSize: 100, stopBeforeDeadlineMs: 1 })).toEqual({
      status: 'dispatched',
      enqueued: 150,
    });
    const ids: string[] = [];
    for (let batch = sendQueue.receive(); batch.length > 0; batch = sendQueue.receive()) {
      for (const record of batch) ids.push(...(JSON.parse(record.body) as SendJob).subscriberIds);
    }
    expect(ids).toHaveLength(250);
    expect(new Set(ids).size).toBe(250);
    expect(await stack.issues.getIssue(postId)).toMatchObject({ state: 'dispatched', enqueued: 250, cursor: '' });
  });

  it('starts a scheduled post when its schedule fires and leaves skipped and preview posts alone', async () => {
    const run = pipeline(stack);
    const sendQueue = new TestQueue<SendJob>();
    const ports = { ...run.dispatchPorts, sendQueue };
    const base = { title: 't', subject: 't', sendAt: new Date().toISOString(), message: testMessage() };
    await stack.issues.createIssue({ ...base, postId: 'scheduled', state: 'scheduled' });
    await stack.issues.createIssue({
      ...base,
      postId: 'skipped',
      state: 'skipped',
      skipReason: 'newsletter: false',
      message: undefined,
    });
    await stack.issues.createIssue({ ...base, postId: 'draft-preview', state: 'preview' });
    expect(await dispatchIssue(ports, 'scheduled')).toEqual({ status: 'dispatched', enqueued: 250 });
    expect(await dispatchIssue(ports, 'skipped')).toMatchObject({ status: 'not-dispatching' });
    expect(await dispatchIssue(ports, 'draft-preview')).toMatchObject({ status: 'not-dispatching' });
    expect(await dispatchIssue(ports, 'never-published')).toMatchObject({ status: 'not-found' });
    // Only the scheduled post queued anything: its 250 recipients, once each.
    const ids = [];
    for (let batch = sendQueue.receive(); batch.length > 0; batch = sendQueue.receive()) {
      for (const record of batch) ids.push(...(JSON.parse(record.body) as SendJob).subscriberIds);
    }
    expect(new Set(ids).size).toBe(250);
    expect(ids).toHaveLength(250);
  });
});

describe('the issue record', () => {
  it('keeps a large Chinese email compressed under the item limit and gives it back unchanged', async () => {
    const paragraph = '<p>这是一段很长的中文内容，用来测试压缩后的邮件能否放进 DynamoDB 的单个条目。</p>\n';
    const message = testMessage('很长的文章');
    const big = { ...message, rest: [...message.rest, paragraph.repeat(8_000)] };
    expect(Buffer.byteLength(JSON.stringify(big))).toBeGreaterThan(400_000);
    expect(
      await stack.issues.createIssue({
        postId: 'big',
        title: 'big',
        subject: 'big',
        state: 'dispatching',
        sendAt: new Date().toISOString(),
        message: big,
      }),
    ).toBe('created');
    expect(await stack.issues.getMessage('big')).toEqual(big);
  });

  it('refuses an email too large even compressed, naming what to do', async () => {
    const noise = randomBytes(400_000).toString('base64');
    const message = { ...testMessage(), rest: [noise] };
    await expect(
      stack.issues.createIssue({
        postId: 'huge',
        title: 'huge',
        subject: 'huge',
        state: 'dispatching',
        sendAt: new Date().toISOString(),
        message,
      }),
    ).rejects.toThrow(/shorten the post/);
    expect(await stack.issues.getIssue('huge')).toBeUndefined();
  });
});

describe('the shared send rate', () => {
  it('gives two senders asking at the same instant interleaved slots 1/rate apart, never two in one slot', async () => {
    const frozen = Date.now() + 10_000;
    const waits: number[] = [];
    const limiter = () =>
      new SharedRateLimiter({
        dynamo: stack.dynamo,
        table: stack.tables.deliveriesTable,
        rate: 500,
        slotsPerReservation: 7,
        now: () => frozen,
        sleep: async (ms) => void waits.push(ms),
      });
    const senders = [limiter(), limiter()];
    await Promise.all(senders.flatMap((sender) => Array.from({ length: 100 }, () => sender.acquire())));
    // The slot at 0 ms needs no wait and is not recorded; no two sends share 2 ms.
    const slots = [0, ...waits].sort((a, b) => a - b);
    expect(slots).toHaveLength(200);
    for (let index = 1; index < slots.length; index++)
      expect(slots[index]! - slots[index - 1]!).toBeGreaterThanOrEqual(2 - 1e-9);
    // And little is wasted: at most one unused reservation per sender.
    expect(slots[199]).toBeLessThanOrEqual((200 + 2 * 7) * 2);
  });
});

describe('the send rate the sender holds to', () => {
  it("takes the account's maximum send rate from SES when SES answers GetSendQuota", async () => {
    const ses = await startFaultProxy(stack.sesUrl, (form) =>
      form.get('Action') === 'GetSendQuota'
        ? {
            status: 200,
            body: '<GetSendQuotaResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><GetSendQuotaResult><SentLast24Hours>0.0</SentLast24Hours><Max24HourSend>50000.0</Max24HourSend><MaxSendRate>200.0</MaxSendRate></GetSendQuotaResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetSendQuotaResponse>',
          }
        : undefined,
    );
    try {
      expect(await resolveSendRate(sesClient({ ses: ses.url }), 14)).toBe(200);
    } finally {
      await ses.close();
    }
  });

  it('falls back to the configured rate when SES does not answer (the local emulator never does)', async () => {
    expect(await resolveSendRate(sesClient({ ses: stack.sesUrl }), 14, 300)).toBe(14);
    expect(await resolveSendRate(undefined, 9)).toBe(9);
  });
});

describe('claim ledgers', () => {
  const ledger = { postId: '2026-11-26-ledger', bucket: 3, buckets: 10 };
  const [first, second, third] = ['AAAAAAAAAAAAAAAAAAAAAA', 'AAAAAAAAAAAAAAAAAAAAAB', 'AAAAAAAAAAAAAAAAAAAAAC'];

  const claim = (token: string) => ({ claimedAt: new Date().toISOString(), token });

  it('claim a group all or nothing, so a recipient is claimed once however often they are queued', async () => {
    const mine = claim('mine');
    expect(await stack.issues.claim(ledger, [first!, second!], mine)).toBe(true);
    // A redelivered message asks for one claimed recipient and one new: nothing is taken.
    expect(await stack.issues.claim(ledger, [second!, third!], claim('redelivery'))).toBe(false);
    const claims = await stack.issues.readClaims(ledger);
    expect([...claims.keys()].sort()).toEqual([first, second]);
    expect(claims.get(first!)).toEqual(mine);
    expect(await stack.issues.claim(ledger, [third!], claim('next'))).toBe(true);
    // Only the holder gives a claim back.
    expect(await stack.issues.releaseClaim(ledger, first!, claim('someone-else'))).toBe(false);
    expect(await stack.issues.releaseClaim(ledger, first!, mine)).toBe(true);
    expect(await stack.issues.claim(ledger, [first!], claim('again'))).toBe(true);
  });

  it('show claimed recipients without a record as sending, beside the recorded ones', async () => {
    const postId = '2026-11-26-ledger-status';
    const buckets = 4;
    const recipients = Array.from({ length: 60 }, () => randomBytes(16).toString('base64url'));
    const byBucket = new Map<number, string[]>();
    for (const id of recipients)
      byBucket.set(bucketOf(id, buckets), [...(byBucket.get(bucketOf(id, buckets)) ?? []), id]);
    for (const [bucket, members] of byBucket)
      expect(await stack.issues.claim({ postId, bucket, buckets }, members, claim(`bucket-${bucket}`))).toBe(true);
    const recorded = recipients.slice(0, 45);
    await stack.issues.markSentMany(
      recorded.slice(0, 25).map((subscriberId) => ({
        postId,
        subscriberId,
        claimedAt: 'x',
        sesMessageId: 'm',
        sentAt: new Date().toISOString(),
      })),
    );
    await stack.issues.markSentMany(
      recorded.slice(25).map((subscriberId) => ({
        postId,
        subscriberId,
        claimedAt: 'x',
        sesMessageId: 'm',
        sentAt: new Date().toISOString(),
      })),
    );
    const skipped = randomBytes(16).toString('base64url');
    await stack.issues.recordUnsent(postId, skipped, 'skipped', 'subscriber unsubscribed');

    const states = new Map<string, string>();
    for await (const page of stack.issues.deliveries(postId))
      for (const delivery of page) states.set(delivery.subscriberId, delivery.state);
    expect(states.size).toBe(61);
    for (const id of recorded) expect(states.get(id)).toBe('sent');
    for (const id of recipients.slice(45)) expect(states.get(id)).toBe('sending');
    expect(states.get(skipped)).toBe('skipped');
  });

  it('keep the bucket count a post was first dispatched with, whatever the list has become', async () => {
    await createIssue(stack, '2026-11-26-buckets');
    expect(await stack.issues.fixClaimBuckets('2026-11-26-buckets', 7)).toBe(7);
    expect(await stack.issues.fixClaimBuckets('2026-11-26-buckets', 70)).toBe(7);
    expect((await stack.issues.getIssue('2026-11-26-buckets'))?.claimBuckets).toBe(7);
  });
});
