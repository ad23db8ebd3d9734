import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoSubscriberStore } from '../../functions/adapters/dynamodb/subscriber-store';
import { InvalidInputError } from '../../functions/commons/errors';
import { hashIp } from '../../functions/subscribers/keys';
import { CONFIRMATION_WINDOW_MS, SubscriptionService } from '../../functions/subscribers/service';
import { SubscriberTokens } from '../../functions/subscribers/tokens';
import {
  createSubscriberTable,
  ManualClock,
  quietLogger,
  RecordingConfirmationSender,
  type RunningDynamo,
  startDynamo,
  testKeys,
  tokenFrom,
} from './subscribers-harness';

let dynamo: RunningDynamo;
let tableName: string;
let clock: ManualClock;
let mailer: RecordingConfirmationSender;
let store: DynamoSubscriberStore;
let service: SubscriptionService;

beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo.stop();
});
beforeEach(async () => {
  tableName = await createSubscriberTable(dynamo.client);
  clock = new ManualClock();
  mailer = new RecordingConfirmationSender();
  store = new DynamoSubscriberStore({
    client: dynamo.client,
    tableName,
    idKey: testKeys.idKey,
    listName: 'newsletter',
    clock,
  });
  service = new SubscriptionService({
    store,
    keys: testKeys,
    mailer,
    clock,
    publicUrl: 'https://news.example.com/',
    logger: quietLogger,
  });
});

async function rawItem(email: string): Promise<Record<string, unknown> | undefined> {
  const result = await dynamo.client.send(
    new GetItemCommand({ TableName: tableName, Key: { id: { S: store.idFor(email) } } }),
  );
  return result.Item ? unmarshall(result.Item) : undefined;
}

async function activeEmails(): Promise<string[]> {
  const emails: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.pageActive(cursor, 100);
    emails.push(...page.subscribers.map((subscriber) => subscriber.email));
    cursor = page.cursor;
  } while (cursor !== undefined);
  return emails;
}

function errorCode(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => (error instanceof InvalidInputError ? error.code : `unexpected ${String(error)}`),
  );
}

describe('signup, confirmation and leaving', () => {
  it('stores a pending subscriber with consent and sends one confirmation link that activates it', async () => {
    await service.subscribe({ email: '  Reader@Example.COM ', source: 'form', ip: '203.0.113.9', lang: 'zh-CN' });

    const stored = await store.findByEmail('reader@example.com');
    expect(stored).toMatchObject({ email: 'reader@example.com', state: 'pending', lang: 'zh-CN' });
    expect(stored?.consent).toEqual({
      at: '2026-03-01T09:00:00.000Z',
      source: 'form',
      ipHash: hashIp(testKeys.ipKey, '203.0.113.9'),
    });
    expect(JSON.stringify(await rawItem('reader@example.com'))).not.toContain('203.0.113.9');
    expect(mailer.sent).toHaveLength(1);
    expect(mailer.sent[0]).toMatchObject({ to: 'reader@example.com', lang: 'zh-CN' });
    expect(mailer.sent[0]!.confirmUrl).toMatch(/^https:\/\/news\.example\.com\/confirm\?token=[A-Za-z0-9_-]+$/);
    expect(mailer.sent[0]!.confirmUrl).not.toContain('reader');
    expect(await activeEmails()).toEqual([]);

    clock.advance(60_000);
    expect(await service.confirm(tokenFrom(mailer.sent[0]!.confirmUrl))).toBe('confirmed');
    expect(await store.findByEmail('reader@example.com')).toMatchObject({
      state: 'active',
      confirmedAt: '2026-03-01T09:01:00.000Z',
    });
    expect(await activeEmails()).toEqual(['reader@example.com']);
    expect(await service.confirm(tokenFrom(mailer.sent[0]!.confirmUrl))).toBe('already-confirmed');
  });

  it('gives the same outcome for new, pending and active addresses and never re-mails an active one', async () => {
    const outcomes = [];
    outcomes.push(await service.subscribe({ email: 'a@example.org', source: 'form' }));
    outcomes.push(await service.subscribe({ email: 'a@example.org', source: 'form' }));
    await service.confirm(tokenFrom(mailer.sent[0]!.confirmUrl));
    clock.advance(CONFIRMATION_WINDOW_MS + 1);
    outcomes.push(await service.subscribe({ email: 'A@example.org', source: 'form' }));
    expect(outcomes).toEqual([undefined, undefined, undefined]);
    expect(mailer.sent).toHaveLength(1);
    expect((await store.findByEmail('a@example.org'))?.state).toBe('active');
  });

  it('unsubscribes with the link, is idempotent, and a new opt-in brings the reader back', async () => {
    await service.subscribe({ email: 'leaver@example.org', source: 'form' });
    await service.confirm(tokenFrom(mailer.sent[0]!.confirmUrl));
    const { id } = (await store.findByEmail('leaver@example.org'))!;
    const unsubscribeToken = tokenFrom(service.unsubscribeUrl(id));

    expect(await service.checkUnsubscribeToken(unsubscribeToken)).toEqual({ subscriberId: id, subscribed: true });
    expect((await store.get(id))?.state).toBe('active');

    expect(await service.unsubscribe(unsubscribeToken)).toBe('unsubscribed');
    expect(await service.unsubscribe(unsubscribeToken)).toBe('already-unsubscribed');
    expect(await store.get(id)).toMatchObject({ state: 'unsubscribed', unsubscribedAt: '2026-03-01T09:00:00.000Z' });
    expect(await activeEmails()).toEqual([]);
    expect(await service.checkUnsubscribeToken(unsubscribeToken)).toEqual({ subscriberId: id, subscribed: false });

    // The old confirmation link must not undo the unsubscribe.
    expect(await errorCode(service.confirm(tokenFrom(mailer.sent[0]!.confirmUrl)))).toBe('CONFIRMATION_SUPERSEDED');
    expect((await store.get(id))?.state).toBe('unsubscribed');

    clock.advance(CONFIRMATION_WINDOW_MS + 1);
    await service.subscribe({ email: 'leaver@example.org', source: 'form' });
    expect((await store.get(id))?.state).toBe('pending');
    expect(mailer.sent).toHaveLength(2);
    expect(await service.confirm(tokenFrom(mailer.sent[1]!.confirmUrl))).toBe('confirmed');
    expect(await store.get(id)).toMatchObject({ state: 'active' });
    expect((await store.get(id))?.unsubscribedAt).toBeUndefined();
    expect(await activeEmails()).toEqual(['leaver@example.org']);

    // An unsubscribe link from an email sent before the first unsubscribe still works.
    clock.advance(400 * 24 * 60 * 60 * 1000);
    expect(await service.unsubscribe(unsubscribeToken)).toBe('unsubscribed');

    // Once the person is forgotten, old links neither fail loudly nor bring a record back.
    expect(await store.delete(id)).toBe(true);
    expect(await service.unsubscribe(unsubscribeToken)).toBe('already-unsubscribed');
    expect(await errorCode(service.confirm(tokenFrom(mailer.sent[1]!.confirmUrl)))).toBe('TOKEN_EXPIRED');
    expect(await store.get(id)).toBeUndefined();
  });

  it('tells a reader whose record was erased to sign up again', async () => {
    await service.subscribe({ email: 'erased@example.org', source: 'form' });
    await store.delete(store.idFor('erased@example.org'));
    expect(await errorCode(service.confirm(tokenFrom(mailer.sent[0]!.confirmUrl)))).toBe('SUBSCRIBER_NOT_FOUND');
    expect(await store.findByEmail('erased@example.org')).toBeUndefined();
  });

  it('does not mail or resubscribe a complained address, and lets a bounced one opt in again', async () => {
    await service.subscribe({ email: 'complainer@example.org', source: 'form' });
    await service.subscribe({ email: 'bouncer@example.org', source: 'form' });
    await service.confirm(tokenFrom(mailer.sent[0]!.confirmUrl));
    await service.confirm(tokenFrom(mailer.sent[1]!.confirmUrl));
    const complainer = store.idFor('complainer@example.org');
    const bouncer = store.idFor('bouncer@example.org');
    await store.suppress(complainer, 'complained', clock.now());
    await store.suppress(bouncer, 'bounced', clock.now());
    // A bounce arriving after a complaint must not soften it.
    await store.suppress(complainer, 'bounced', clock.now());
    expect(await activeEmails()).toEqual([]);

    clock.advance(CONFIRMATION_WINDOW_MS + 1);
    await service.subscribe({ email: 'complainer@example.org', source: 'form' });
    await service.subscribe({ email: 'bouncer@example.org', source: 'form' });
    expect((await store.get(complainer))?.state).toBe('complained');
    expect((await store.get(bouncer))?.state).toBe('pending');
    expect(mailer.sent.map((mail) => mail.to)).toEqual([
      'complainer@example.org',
      'bouncer@example.org',
      'bouncer@example.org',
    ]);
  });

  it('refuses bad, expired and other-purpose tokens without changing anything', async () => {
    await service.subscribe({ email: 'careful@example.org', source: 'form' });
    const confirmToken = tokenFrom(mailer.sent[0]!.confirmUrl);
    const id = store.idFor('careful@example.org');

    const tampered = `${confirmToken.slice(0, 10)}${confirmToken[10] === 'A' ? 'B' : 'A'}${confirmToken.slice(11)}`;
    expect(await errorCode(service.confirm(tampered))).toBe('TOKEN_INVALID');
    expect(await errorCode(service.confirm(''))).toBe('TOKEN_INVALID');
    expect(await errorCode(service.unsubscribe(confirmToken))).toBe('TOKEN_WRONG_PURPOSE');
    expect(await errorCode(service.checkUnsubscribeToken(confirmToken))).toBe('TOKEN_WRONG_PURPOSE');
    expect(await errorCode(service.confirm(tokenFrom(service.unsubscribeUrl(id))))).toBe('TOKEN_WRONG_PURPOSE');
    expect((await store.get(id))?.state).toBe('pending');

    clock.advance(7 * 24 * 60 * 60 * 1000 + 1000);
    expect(await errorCode(service.confirm(confirmToken))).toBe('TOKEN_EXPIRED');
    expect((await store.get(id))?.state).toBe('pending');

    // A token signed with another key (another deployment) is not accepted here.
    const foreign = new SubscriberTokens(Buffer.alloc(32, 7), clock).issue('confirm', id);
    expect(await errorCode(service.confirm(foreign))).toBe('TOKEN_INVALID');
    expect((await store.get(id))?.state).toBe('pending');
  });

  it('rejects a header-injection attempt and a typo before storing or mailing anything', async () => {
    expect(
      await errorCode(service.subscribe({ email: 'victim@example.com\r\nBcc: everyone@example.com', source: 'form' })),
    ).toBe('ADDRESS_INVALID');
    expect(await errorCode(service.subscribe({ email: 'reader@gmial.com', source: 'form' }))).toBe('ADDRESS_INVALID');
    expect(mailer.sent).toEqual([]);
    const pages = [];
    for await (const page of store.scanAll()) pages.push(...page);
    expect(pages).toEqual([]);
  });
});

describe('the confirmation rate limit', () => {
  it('sends one confirmation for 20 concurrent signups of the same address', async () => {
    await Promise.all(
      Array.from({ length: 20 }, () => service.subscribe({ email: 'target@example.net', source: 'form' })),
    );
    expect(mailer.sent.map((mail) => mail.to)).toEqual(['target@example.net']);
  });

  it('allows another confirmation after 10 minutes, not before', async () => {
    await service.subscribe({ email: 'slow@example.net', source: 'form' });
    clock.advance(CONFIRMATION_WINDOW_MS - 1000);
    await service.subscribe({ email: 'slow@example.net', source: 'form' });
    expect(mailer.sent).toHaveLength(1);
    clock.advance(2000);
    await service.subscribe({ email: 'slow@example.net', source: 'form' });
    expect(mailer.sent).toHaveLength(2);
  });

  it('gives the claim back when the email could not be sent, so the reader can retry at once', async () => {
    mailer.failNext = true;
    await expect(service.subscribe({ email: 'retry@example.net', source: 'form' })).rejects.toThrow(
      'simulated provider outage',
    );
    expect(mailer.sent).toHaveLength(0);
    await service.subscribe({ email: 'retry@example.net', source: 'form' });
    expect(mailer.sent.map((mail) => mail.to)).toEqual(['retry@example.net']);
  });
});
