import { gunzipSync, gzipSync } from 'node:zlib';
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import {
  bucketOf,
  type Claim,
  claimAttribute,
  decodeClaim,
  encodeClaim,
  LEDGER_PREFIX,
  type Ledger,
  ledgerKey,
  subscriberOfClaimAttribute,
} from '../../delivery/claims';
import {
  type CopyFeedback,
  type Delivery,
  type DigestRun,
  type Issue,
  type IssueStore,
  MessageTooLargeError,
  type NewIssue,
  type NotForCounts,
  type PublishedPost,
  type SendingTables,
  type SentRecord,
} from '../../delivery/issues';
import { encodeTagValue, isHashedTagValue } from '../../delivery/message-tags';
import type { CompiledMessage } from '../../mail/message';
import { readIssueLinks } from './issue-links';
import { conditionalUpdate, isConditionFailure, untilProcessed } from './requests';

/**
 * Key prefix of the items that map a hashed SES tag back to its post id (see `tagAlias`). No
 * post id starts with it: ids are permalink paths, `draft-…` or `preview:…`.
 */
const TAG_ALIAS_PREFIX = 'tag:';
/** Key prefix of a digest's compiled variants (`variant:<digest id>:<variant>`), beside its issue. */
const VARIANT_PREFIX = 'variant:';

/** The key of the item holding the latest digest run (`DigestRun`); no post id, nor any other key prefix, is like it. */
const LAST_DIGEST_RUN_KEY = 'digest-run:latest';

/** Items stay under DynamoDB's 400 KB; a 100 KB post compresses to a fraction of that. */
const MESSAGE_LIMIT_BYTES = 350_000;
/** BatchWriteItem takes at most 25 requests. */
const BATCH_WRITE_LIMIT = 25;

/** Where each kind of feedback is noted on a delivery record (Delivery's fields). */
const FEEDBACK_ATTRIBUTES: Record<Exclude<CopyFeedback['kind'], 'transient'>, [string, string | boolean]> = {
  bounce: ['bounce', 'permanent'],
  complaint: ['complaint', true],
  delivery: ['delivered', true],
  delay: ['delayed', true],
  reject: ['rejected', true],
};

/**
 * The issue's `notFor` counts, one top-level number each: ADD, which makes the page's counts
 * part of the checkpoint's one conditional write, takes top-level attributes only.
 */
export const NOT_FOR_ATTRIBUTES: Record<keyof NotForCounts, string> = {
  topics: 'notForTopics',
  digest: 'notForDigest',
};

/**
 * Issues (one per post) and deliveries (one per post and recipient) in DynamoDB. Every state
 * change that decides who sends is a conditional write, so redelivered queue messages,
 * re-pushed posts and concurrent workers cannot send twice.
 */
export class DynamoIssueStore implements IssueStore {
  constructor(
    private readonly dynamo: DynamoDBClient,
    private readonly tables: SendingTables,
  ) {}

  /** The idempotency point: only the first write for a post id wins. */
  createIssue(issue: NewIssue, now: Date = new Date()): Promise<'created' | 'exists'> {
    return this.putIssue(issue, now, { ConditionExpression: 'attribute_not_exists(postId)' });
  }

  /**
   * A post recorded as skipped whose front matter now lets it go, or recorded as failed and
   * since fixed, published explicitly: its record is replaced only while it is still `skipped`
   * or `failed`, so of two publishes at once only one wins ('exists' for the other), as with
   * `createIssue`.
   */
  replaceSkipped(issue: NewIssue, now: Date = new Date()): Promise<'created' | 'exists'> {
    return this.putIssue(issue, now, {
      ConditionExpression: '#state IN (:skipped, :failed)',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: marshall({ ':skipped': 'skipped', ':failed': 'failed' }),
    });
  }

  private async putIssue(
    issue: NewIssue,
    now: Date,
    condition: Pick<
      ConstructorParameters<typeof PutItemCommand>[0],
      'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
    >,
  ): Promise<'created' | 'exists'> {
    const { message, ...fields } = issue;
    const item: Record<string, AttributeValue> = marshall(
      { ...fields, createdAt: now.toISOString(), cursor: '', enqueued: 0, hasMessage: message !== undefined },
      { removeUndefinedValues: true },
    );
    if (message !== undefined) item.message = compressedMessage(issue.postId, message);
    await this.writeTagAlias(issue.postId);
    try {
      await this.dynamo.send(new PutItemCommand({ TableName: this.tables.issuesTable, Item: item, ...condition }));
      return 'created';
    } catch (error) {
      if (isConditionFailure(error)) return 'exists';
      throw error;
    }
  }

  async getIssue(postId: string): Promise<Issue | undefined> {
    const result = await this.dynamo.send(
      new GetItemCommand({
        TableName: this.tables.issuesTable,
        Key: marshall({ postId }),
        ConsistentRead: true,
        ProjectionExpression:
          'postId, title, subject, #state, sendAt, skipReason, failReason, #source, #commit, createdAt, #cursor, enqueued, dispatchedAt, hasMessage, claimBuckets, categoriesAndTags, notForTopics, notForDigest, #digest',
        ExpressionAttributeNames: {
          '#state': 'state',
          '#source': 'source',
          '#commit': 'commit',
          '#cursor': 'cursor',
          '#digest': 'digest',
        },
      }),
    );
    if (result.Item === undefined) return undefined;
    const { notForTopics, notForDigest, ...issue } = unmarshall(result.Item) as Issue & {
      notForTopics?: number;
      notForDigest?: number;
    };
    if (notForTopics !== undefined || notForDigest !== undefined)
      issue.notFor = { topics: notForTopics ?? 0, digest: notForDigest ?? 0 };
    return issue;
  }

  /** The rendered message, decompressed; read once per batch by the sender, not per recipient. */
  async getMessage(postId: string, variant?: string): Promise<CompiledMessage | undefined> {
    const result = await this.dynamo.send(
      new GetItemCommand({
        TableName: this.tables.issuesTable,
        Key: marshall({ postId: variant === undefined ? postId : variantKey(postId, variant) }),
        ProjectionExpression: 'message',
      }),
    );
    const binary = result.Item?.message?.B;
    if (binary === undefined) return undefined;
    return JSON.parse(gunzipSync(binary).toString('utf8')) as CompiledMessage;
  }

  getLinks(postId: string): Promise<string[] | undefined> {
    return readIssueLinks(this.dynamo, this.tables.issuesTable, postId);
  }

  /** A digest's variant in an item of its own (each can be as large as a post's email). */
  async putVariant(postId: string, variant: string, message: CompiledMessage): Promise<void> {
    try {
      await this.dynamo.send(
        new PutItemCommand({
          TableName: this.tables.issuesTable,
          Item: { postId: { S: variantKey(postId, variant) }, message: compressedMessage(postId, message) },
          ConditionExpression: 'attribute_not_exists(postId)',
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /**
   * The week's posts by a scan of the issues table: it holds one small item per post (a
   * digest reads it once a week), and a key on send times would need an index for that alone.
   */
  async publishedBetween(since: Date, until: Date): Promise<PublishedPost[]> {
    const posts: PublishedPost[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.dynamo.send(
        new ScanCommand({
          TableName: this.tables.issuesTable,
          ConsistentRead: true,
          FilterExpression:
            'attribute_exists(summary) AND sendAt >= :since AND sendAt < :until AND #state IN (:scheduled, :dispatching, :dispatched)',
          ProjectionExpression: 'postId, sendAt, summary, categoriesAndTags',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: marshall({
            ':since': since.toISOString(),
            ':until': until.toISOString(),
            ':scheduled': 'scheduled',
            ':dispatching': 'dispatching',
            ':dispatched': 'dispatched',
          }),
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        const { postId, sendAt, summary, categoriesAndTags } = unmarshall(item);
        posts.push({ postId, sendAt, summary, categoriesAndTags: categoriesAndTags ?? [] });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return posts.sort((a, b) => a.sendAt.localeCompare(b.sendAt) || a.postId.localeCompare(b.postId));
  }

  async lastDigestRun(): Promise<DigestRun | undefined> {
    const result = await this.dynamo.send(
      new GetItemCommand({
        TableName: this.tables.issuesTable,
        Key: marshall({ postId: LAST_DIGEST_RUN_KEY }),
        ConsistentRead: true,
      }),
    );
    if (result.Item === undefined) return undefined;
    const { digestId, until, posts } = unmarshall(result.Item);
    return { digestId, until, posts };
  }

  /** ISO times of one form compare as strings; the condition keeps the latest of two runs at once. */
  async recordDigestRun(run: DigestRun): Promise<void> {
    const until = new Date(run.until).toISOString();
    try {
      await this.dynamo.send(
        new PutItemCommand({
          TableName: this.tables.issuesTable,
          Item: marshall({ postId: LAST_DIGEST_RUN_KEY, digestId: run.digestId, until, posts: run.posts }),
          ConditionExpression: 'attribute_not_exists(postId) OR #until < :until',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: marshall({ ':until': until }),
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /** A scheduled issue whose time has come starts dispatching; false if it was not scheduled. */
  async startScheduled(postId: string): Promise<boolean> {
    return this.conditionalUpdate({
      TableName: this.tables.issuesTable,
      Key: marshall({ postId }),
      UpdateExpression: 'SET #state = :dispatching',
      ConditionExpression: '#state = :scheduled',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: marshall({ ':dispatching': 'dispatching', ':scheduled': 'scheduled' }),
    });
  }

  /**
   * Moves the dispatch cursor from `expected` to `next` (undefined: the last page is queued)
   * and counts the page's recipients. False when another dispatcher moved it first: the
   * caller stops and leaves the post to that dispatcher.
   */
  async checkpoint(
    postId: string,
    expected: string,
    next: string | undefined,
    enqueued: number,
    now: Date = new Date(),
    notFor?: NotForCounts,
  ): Promise<boolean> {
    const finished = next === undefined;
    const added = ['enqueued :count'];
    const values: Record<string, unknown> = {
      ':next': next ?? '',
      ':expected': expected,
      ':count': enqueued,
      ':dispatching': 'dispatching',
      ...(finished ? { ':dispatched': 'dispatched', ':now': now.toISOString() } : {}),
    };
    // Only counts there are: a list without topics or digest readers keeps its records as they were.
    for (const reason of ['topics', 'digest'] as const) {
      if ((notFor?.[reason] ?? 0) === 0) continue;
      added.push(`${NOT_FOR_ATTRIBUTES[reason]} :${reason}`);
      values[`:${reason}`] = notFor![reason];
    }
    return this.conditionalUpdate({
      TableName: this.tables.issuesTable,
      Key: marshall({ postId }),
      UpdateExpression: `${finished ? 'SET #cursor = :next, #state = :dispatched, dispatchedAt = :now' : 'SET #cursor = :next'} ADD ${added.join(', ')}`,
      ConditionExpression: '#cursor = :expected AND #state = :dispatching',
      ExpressionAttributeNames: { '#cursor': 'cursor', '#state': 'state' },
      ExpressionAttributeValues: marshall(values),
    });
  }

  /**
   * Fixes the post's claim bucket count (see claims.ts) unless it is fixed already, and returns
   * the stored count: every dispatch of the post, resumed or restarted, buckets recipients alike.
   */
  async fixClaimBuckets(postId: string, buckets: number): Promise<number> {
    const result = await this.dynamo.send(
      new UpdateItemCommand({
        TableName: this.tables.issuesTable,
        Key: marshall({ postId }),
        UpdateExpression: 'SET claimBuckets = if_not_exists(claimBuckets, :buckets)',
        ConditionExpression: 'attribute_exists(postId)',
        ExpressionAttributeValues: marshall({ ':buckets': buckets }),
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(result.Attributes?.claimBuckets?.N ?? buckets);
  }

  /**
   * Claims the right to send one copy to each of `subscriberIds` (all in `bucket`) with one
   * conditional update of the bucket's ledger, as `claim` (its token made by the caller, so
   * the caller can recognise its own claims in the ledger). All or nothing: false when any of
   * them was claimed before (a duplicate queue message, a redelivery, a concurrent dispatch);
   * the caller then reads the ledger and claims the rest.
   */
  async claim(ledger: Ledger, subscriberIds: string[], claim: Claim): Promise<boolean> {
    const names: Record<string, string> = {};
    const conditions: string[] = [];
    const sets: string[] = [];
    subscriberIds.forEach((subscriberId, index) => {
      names[`#c${index}`] = claimAttribute(subscriberId);
      conditions.push(`attribute_not_exists(#c${index})`);
      sets.push(`#c${index} = :claim`);
    });
    return this.conditionalUpdate({
      TableName: this.tables.deliveriesTable,
      Key: ledgerItemKey(ledger),
      // The bucket count lets status map records to their ledger (see `deliveries`).
      UpdateExpression: `SET buckets = :buckets, ${sets.join(', ')}`,
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: marshall({ ':claim': encodeClaim(claim), ':buckets': ledger.buckets }),
    });
  }

  /** Every claim in a bucket's ledger, by subscriber id. */
  async readClaims(ledger: Ledger): Promise<Map<string, Claim>> {
    const result = await this.dynamo.send(
      new GetItemCommand({
        TableName: this.tables.deliveriesTable,
        Key: ledgerItemKey(ledger),
        ConsistentRead: true,
      }),
    );
    return claimsOfLedger(result.Item);
  }

  /**
   * Gives a claim back after a retryable SES error or a deadline, so the redelivered message
   * can send it; only the holder (the token) can.
   */
  async releaseClaim(ledger: Ledger, subscriberId: string, claim: Claim): Promise<boolean> {
    return this.conditionalUpdate({
      TableName: this.tables.deliveriesTable,
      Key: ledgerItemKey(ledger),
      UpdateExpression: 'REMOVE #claim',
      ConditionExpression: '#claim = :claim',
      ExpressionAttributeNames: { '#claim': claimAttribute(subscriberId) },
      ExpressionAttributeValues: marshall({ ':claim': encodeClaim(claim) }),
    });
  }

  /**
   * Takes over the claim `held` of a sender that died, as `next`: only if the ledger still
   * holds exactly `held`, so of two senders resolving the same recipient only one sends.
   */
  async takeOverClaim(ledger: Ledger, subscriberId: string, held: Claim, next: Claim): Promise<boolean> {
    return this.conditionalUpdate({
      TableName: this.tables.deliveriesTable,
      Key: ledgerItemKey(ledger),
      UpdateExpression: 'SET #claim = :next',
      ConditionExpression: '#claim = :held',
      ExpressionAttributeNames: { '#claim': claimAttribute(subscriberId) },
      ExpressionAttributeValues: marshall({ ':held': encodeClaim(held), ':next': encodeClaim(next) }),
    });
  }

  /** Which of `subscriberIds` (at most 100) have a record for the post, read consistently. */
  async recordedAmong(postId: string, subscriberIds: string[]): Promise<Set<string>> {
    const recorded = new Set<string>();
    const keys = [...new Set(subscriberIds)].map((subscriberId) => marshall({ postId, subscriberId }));
    if (keys.length === 0) return recorded;
    await untilProcessed(
      keys,
      async (left) => {
        const result = await this.dynamo.send(
          new BatchGetItemCommand({
            RequestItems: {
              [this.tables.deliveriesTable]: { Keys: left, ConsistentRead: true, ProjectionExpression: 'subscriberId' },
            },
          }),
        );
        for (const item of result.Responses?.[this.tables.deliveriesTable] ?? [])
          recorded.add(String(item.subscriberId?.S));
        return result.UnprocessedKeys?.[this.tables.deliveriesTable]?.Keys;
      },
      { firstMs: 25, maxMs: 1_000 },
    );
    return recorded;
  }

  /**
   * SES reported (a Send event) that it accepted this recipient's copy: the copy is `sent`,
   * whatever its sender managed to record before it died. Idempotent: false when it was
   * already recorded sent (SNS delivers at least once, and the sender usually records first).
   */
  async recordAccepted(
    postId: string,
    subscriberId: string,
    sesMessageId: string,
    acceptedAt: string,
  ): Promise<boolean> {
    return this.conditionalUpdate({
      TableName: this.tables.deliveriesTable,
      Key: marshall({ postId, subscriberId }),
      UpdateExpression:
        'SET #state = :sent, sesMessageId = :id, sentAt = if_not_exists(sentAt, :at), claimedAt = if_not_exists(claimedAt, :at) REMOVE reason',
      ConditionExpression: 'attribute_not_exists(subscriberId) OR #state <> :sent',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: marshall({ ':sent': 'sent', ':id': sesMessageId, ':at': acceptedAt }),
    });
  }

  /**
   * Records many copies as sent in BatchWriteItem requests of 25. A put cannot carry a
   * condition, so this is only for claims the caller took itself and still holds (a claim is
   * taken over only once it is older than the resend grace period, far longer than a send).
   * The put replaces the whole item: a bounce recorded on it in the seconds between SES's Send
   * event and this write loses its per-post mark (the reader is still suppressed). Rejects if
   * some records stay unwritten after retries; their claims stay, and are decided later.
   */
  async markSentMany(records: SentRecord[]): Promise<void> {
    for (let start = 0; start < records.length; start += BATCH_WRITE_LIMIT) {
      const requests = records
        .slice(start, start + BATCH_WRITE_LIMIT)
        .map((record) => ({ PutRequest: { Item: marshall({ ...record, state: 'sent' }) } }));
      await untilProcessed(
        requests,
        async (left) => {
          const result = await this.dynamo.send(
            new BatchWriteItemCommand({ RequestItems: { [this.tables.deliveriesTable]: left } }),
          );
          return result.UnprocessedItems?.[this.tables.deliveriesTable] as typeof left | undefined;
        },
        { firstMs: 25, maxMs: 1_000 },
      );
    }
  }

  /**
   * Records a copy that cannot go (SES rejected it, or the address cannot be written into the
   * message). Only for a recipient the caller holds the claim of: the claim stays, so nothing
   * sends it again.
   */
  async markFailed(
    postId: string,
    subscriberId: string,
    claimedAt: string,
    reason: string,
    now: Date = new Date(),
  ): Promise<void> {
    await this.dynamo.send(
      new PutItemCommand({
        TableName: this.tables.deliveriesTable,
        Item: marshall({ postId, subscriberId, state: 'failed', claimedAt, reason, sentAt: now.toISOString() }),
      }),
    );
  }

  /**
   * Records a recipient not sent to without a claim: `skipped` (no longer active) or `failed`
   * (their queue message is going to the dead-letter queue). Written only if nothing was
   * recorded yet: a subscriber who left after their copy was sent stays `sent`. A dead-lettered
   * recipient's record gives way to `sent` when a redrive sends them.
   */
  async recordUnsent(
    postId: string,
    subscriberId: string,
    state: 'skipped' | 'failed',
    reason: string,
    now: Date = new Date(),
  ): Promise<void> {
    try {
      await this.dynamo.send(
        new PutItemCommand({
          TableName: this.tables.deliveriesTable,
          Item: marshall({ postId, subscriberId, state, reason, claimedAt: now.toISOString() }),
          ConditionExpression: 'attribute_not_exists(subscriberId)',
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async getDelivery(postId: string, subscriberId: string): Promise<Delivery | undefined> {
    const result = await this.dynamo.send(
      new GetItemCommand({
        TableName: this.tables.deliveriesTable,
        Key: marshall({ postId, subscriberId }),
        ConsistentRead: true,
      }),
    );
    return result.Item ? toDelivery(result.Item) : undefined;
  }

  /**
   * SES feedback on a copy, noted on its record by one conditional update that succeeds only
   * the first time: the record is what makes counting SES events exactly-once, at no cost
   * beyond this write (which a bounce or complaint needed anyway).
   */
  async recordFeedback(postId: string, subscriberId: string, feedback: CopyFeedback): Promise<boolean> {
    if (feedback.kind === 'transient')
      return this.conditionalUpdate({
        TableName: this.tables.deliveriesTable,
        Key: marshall({ postId, subscriberId }),
        UpdateExpression: 'ADD transientBounces :ids',
        ConditionExpression: 'attribute_exists(subscriberId) AND NOT contains(transientBounces, :id)',
        ExpressionAttributeValues: marshall({ ':ids': new Set([feedback.feedbackId]), ':id': feedback.feedbackId }),
      });
    const [attribute, value] = FEEDBACK_ATTRIBUTES[feedback.kind];
    return this.conditionalUpdate({
      TableName: this.tables.deliveriesTable,
      Key: marshall({ postId, subscriberId }),
      UpdateExpression: 'SET #feedback = :value',
      ConditionExpression: 'attribute_exists(subscriberId) AND attribute_not_exists(#feedback)',
      ExpressionAttributeNames: { '#feedback': attribute },
      ExpressionAttributeValues: marshall({ ':value': value }),
    });
  }

  /**
   * A post whose id is too long for an SES tag is tagged with a hash of its id (tags.ts). Its
   * issue gets a second item, keyed by that tag, naming the id, so a bounce or complaint finds
   * its post with one GetItem. Written before the issue and unconditionally (the same tag always
   * names the same id), so no issue exists, and no copy is sent, without its alias.
   */
  private async writeTagAlias(postId: string): Promise<void> {
    const tag = encodeTagValue(postId);
    if (!isHashedTagValue(tag)) return;
    await this.dynamo.send(
      new PutItemCommand({
        TableName: this.tables.issuesTable,
        Item: marshall({ postId: TAG_ALIAS_PREFIX + tag, aliasOf: postId }),
      }),
    );
  }

  /** The post id a hashed SES tag stands for, or undefined when no issue of ours has that tag. */
  async postIdOfTag(tag: string): Promise<string | undefined> {
    if (!isHashedTagValue(tag)) return undefined;
    const result = await this.dynamo.send(
      new GetItemCommand({
        TableName: this.tables.issuesTable,
        Key: marshall({ postId: TAG_ALIAS_PREFIX + tag }),
        ProjectionExpression: 'aliasOf',
      }),
    );
    const postId = result.Item?.aliasOf?.S;
    // The hash is checked again, so an item that is not an alias cannot name another post.
    return postId !== undefined && encodeTagValue(postId) === tag ? postId : undefined;
  }

  /**
   * Every delivery of a post, a page at a time, with only what status needs. Recipients claimed
   * in a ledger without a record yet come as `sending` (in flight, or unknown once old). Records
   * and ledgers are read as two sorted streams and merged: a bucket's records all sort before
   * the next bucket's, so only one ledger is held at a time.
   */
  async *deliveries(postId: string): AsyncGenerator<Delivery[]> {
    const records = this.queryPages(postId, 'subscriberId < :ledgers', { ':ledgers': LEDGER_PREFIX.slice(0, 1) });
    let pending: Delivery[] = [];
    let next = 0;
    const nextRecord = async (): Promise<Delivery | undefined> => {
      while (next >= pending.length) {
        const page = await records.next();
        if (page.done) return undefined;
        pending = page.value.map(toDelivery);
        next = 0;
      }
      return pending[next];
    };
    for await (const ledgers of this.queryPages(postId, 'begins_with(subscriberId, :ledgers)', {
      ':ledgers': LEDGER_PREFIX,
    })) {
      for (const ledger of ledgers) {
        const buckets = Number(ledger.buckets?.N);
        const bucket = Number(String(ledger.subscriberId?.S).slice(LEDGER_PREFIX.length));
        const claims = claimsOfLedger(ledger);
        const out: Delivery[] = [];
        for (
          let record = await nextRecord();
          record !== undefined && bucketOf(record.subscriberId, buckets) <= bucket;
          record = await nextRecord()
        ) {
          claims.delete(record.subscriberId);
          out.push(record);
          next++;
        }
        for (const [subscriberId, claim] of claims)
          out.push({
            postId,
            subscriberId,
            state: 'sending',
            claimedAt: claim.claimedAt,
            sendEvents: claim.sendEvents,
          });
        if (out.length > 0) yield out;
      }
    }
    // Records past the last ledger: recipients skipped without a claim.
    if (next < pending.length) yield pending.slice(next);
    for await (const page of records) if (page.length > 0) yield page.map(toDelivery);
  }

  private async *queryPages(
    postId: string,
    sortCondition: string,
    values: Record<string, string>,
  ): AsyncGenerator<Record<string, AttributeValue>[]> {
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.dynamo.send(
        new QueryCommand({
          TableName: this.tables.deliveriesTable,
          KeyConditionExpression: `postId = :postId AND ${sortCondition}`,
          ExpressionAttributeValues: marshall({ ':postId': postId, ...values }),
          ExclusiveStartKey: startKey,
        }),
      );
      yield page.Items ?? [];
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  private conditionalUpdate(input: ConstructorParameters<typeof UpdateItemCommand>[0]): Promise<boolean> {
    return conditionalUpdate(this.dynamo, input);
  }
}

function variantKey(postId: string, variant: string): string {
  return `${VARIANT_PREFIX}${postId}:${variant}`;
}

function compressedMessage(postId: string, message: CompiledMessage): AttributeValue {
  const compressed = gzipSync(Buffer.from(JSON.stringify(message)));
  if (compressed.length > MESSAGE_LIMIT_BYTES)
    throw new MessageTooLargeError(postId, compressed.length, MESSAGE_LIMIT_BYTES);
  return { B: compressed };
}

function toDelivery(item: Record<string, AttributeValue>): Delivery {
  const delivery = unmarshall(item) as Delivery & { transientBounces?: Set<string> };
  return { ...delivery, transientBounces: delivery.transientBounces ? [...delivery.transientBounces] : undefined };
}

function ledgerItemKey(ledger: Ledger): Record<string, AttributeValue> {
  return marshall({ postId: ledger.postId, subscriberId: ledgerKey(ledger.bucket) });
}

function claimsOfLedger(item: Record<string, AttributeValue> | undefined): Map<string, Claim> {
  const claims = new Map<string, Claim>();
  for (const [attribute, value] of Object.entries(item ?? {})) {
    const subscriberId = subscriberOfClaimAttribute(attribute);
    if (subscriberId !== undefined && value.S !== undefined) claims.set(subscriberId, decodeClaim(value.S));
  }
  return claims;
}
