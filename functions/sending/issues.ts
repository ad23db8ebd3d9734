import { gunzipSync, gzipSync } from 'node:zlib';
import { randomUUID } from 'node:crypto';
import {
  BatchWriteItemCommand,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { conditionalUpdate, isConditionFailure } from '../commons/dynamo';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { CompiledMessage } from '../mail/message';

/**
 * `scheduled`: waits for its date. `dispatching`: the dispatcher is (or was, before a crash)
 * paging subscribers from `cursor`. `dispatched`: every active subscriber is on the queue.
 * `skipped`: the front matter said not to send. `preview`: a draft sent to the editors only.
 */
export type IssueState = 'scheduled' | 'dispatching' | 'dispatched' | 'skipped' | 'preview';

export interface NewIssue {
  /** Stable across edits and re-pushes (`Post.id`). */
  postId: string;
  title: string;
  subject: string;
  state: IssueState;
  /** ISO time the post goes out (now, or the post's date when scheduled). */
  sendAt: string;
  /** Rendered once; every recipient's copy is personalised from it. Absent for skipped posts. */
  message?: CompiledMessage;
  skipReason?: string;
  /** Where the post came from (`webhook`, `publish`), for the editor reading status. */
  source?: string;
  /** Git commit the post was read at, when it came from a push. */
  commit?: string;
}

export interface Issue extends Omit<NewIssue, 'message'> {
  createdAt: string;
  /** Dispatch checkpoint: '' before the first page, the next page's cursor after each page. */
  cursor: string;
  /** Recipients put on the send queue, counted once per checkpointed page. */
  enqueued: number;
  dispatchedAt?: string;
  hasMessage: boolean;
}

export type DeliveryState = 'sending' | 'sent' | 'failed' | 'skipped';

export interface Delivery {
  postId: string;
  subscriberId: string;
  state: DeliveryState;
  /** When the claim was taken; a `sending` claim that old is a crash after SES (unknown). */
  claimedAt: string;
  /** Private to the sender that claimed it, so only that sender can release it. */
  claimToken?: string;
  sentAt?: string;
  sesMessageId?: string;
  /** SES error code and message for `failed`; why for `skipped`. */
  reason?: string;
  /** Permanent bounce or complaint reported by SES for this copy. */
  bounce?: 'permanent';
  complaint?: boolean;
  /** SES feedback ids of transient bounces (a set, so an event redelivered counts once). */
  transientBounces?: string[];
}

export interface SendingTables {
  issuesTable: string;
  deliveriesTable: string;
}

/** Items stay under DynamoDB's 400 KB; a 100 KB post compresses to a fraction of that. */
const MESSAGE_LIMIT_BYTES = 350_000;
/** BatchWriteItem takes at most 25 requests. */
const BATCH_WRITE_LIMIT = 25;

export class MessageTooLargeError extends Error {
  readonly code = 'ISSUE_MESSAGE_TOO_LARGE';
  constructor(postId: string, bytes: number) {
    super(`The email for ${postId} is ${bytes} bytes compressed; shorten the post or move images out of it (limit ${MESSAGE_LIMIT_BYTES}).`);
  }
}

/**
 * Issues (one per post) and deliveries (one per post and recipient) in DynamoDB. Every state
 * change that decides who sends is a conditional write, so redelivered queue messages,
 * re-pushed posts and concurrent workers cannot send twice.
 */
export class IssueStore {
  constructor(
    private readonly dynamo: DynamoDBClient,
    private readonly tables: SendingTables,
  ) {}

  /** The idempotency point: only the first write for a post id wins. */
  createIssue(issue: NewIssue, now: Date = new Date()): Promise<'created' | 'exists'> {
    return this.putIssue(issue, now, { ConditionExpression: 'attribute_not_exists(postId)' });
  }

  /**
   * A post recorded as skipped whose front matter now lets it go, published explicitly: its
   * record is replaced only while it is still `skipped`, so of two publishes at once only one
   * wins ('exists' for the other), as with `createIssue`.
   */
  replaceSkipped(issue: NewIssue, now: Date = new Date()): Promise<'created' | 'exists'> {
    return this.putIssue(issue, now, {
      ConditionExpression: '#state = :skipped',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: marshall({ ':skipped': 'skipped' }),
    });
  }

  private async putIssue(
    issue: NewIssue,
    now: Date,
    condition: Pick<ConstructorParameters<typeof PutItemCommand>[0], 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>,
  ): Promise<'created' | 'exists'> {
    const { message, ...fields } = issue;
    const item: Record<string, AttributeValue> = marshall(
      { ...fields, createdAt: now.toISOString(), cursor: '', enqueued: 0, hasMessage: message !== undefined },
      { removeUndefinedValues: true },
    );
    if (message !== undefined) {
      const compressed = gzipSync(Buffer.from(JSON.stringify(message)));
      if (compressed.length > MESSAGE_LIMIT_BYTES) throw new MessageTooLargeError(issue.postId, compressed.length);
      item.message = { B: compressed };
    }
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
        ProjectionExpression: 'postId, title, subject, #state, sendAt, skipReason, #source, #commit, createdAt, #cursor, enqueued, dispatchedAt, hasMessage',
        ExpressionAttributeNames: { '#state': 'state', '#source': 'source', '#commit': 'commit', '#cursor': 'cursor' },
      }),
    );
    return result.Item ? (unmarshall(result.Item) as Issue) : undefined;
  }

  /** The rendered message, decompressed; read once per batch by the sender, not per recipient. */
  async getMessage(postId: string): Promise<CompiledMessage | undefined> {
    const result = await this.dynamo.send(
      new GetItemCommand({
        TableName: this.tables.issuesTable,
        Key: marshall({ postId }),
        ProjectionExpression: 'message',
      }),
    );
    const binary = result.Item?.message?.B;
    if (binary === undefined) return undefined;
    return JSON.parse(gunzipSync(binary).toString('utf8')) as CompiledMessage;
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
  async checkpoint(postId: string, expected: string, next: string | undefined, enqueued: number, now: Date = new Date()): Promise<boolean> {
    const finished = next === undefined;
    return this.conditionalUpdate({
      TableName: this.tables.issuesTable,
      Key: marshall({ postId }),
      UpdateExpression: finished
        ? 'SET #cursor = :next, #state = :dispatched, dispatchedAt = :now ADD enqueued :count'
        : 'SET #cursor = :next ADD enqueued :count',
      ConditionExpression: '#cursor = :expected AND #state = :dispatching',
      ExpressionAttributeNames: { '#cursor': 'cursor', '#state': 'state' },
      ExpressionAttributeValues: marshall({
        ':next': next ?? '',
        ':expected': expected,
        ':count': enqueued,
        ':dispatching': 'dispatching',
        ...(finished ? { ':dispatched': 'dispatched', ':now': now.toISOString() } : {}),
      }),
    });
  }

  /**
   * Claims the right to send one copy. 'exists' means someone claimed it before (a duplicate
   * queue message, a redelivery, a concurrent dispatch): the caller must not send.
   */
  async claimDelivery(postId: string, subscriberId: string, now: Date = new Date()): Promise<{ claimed: true; token: string } | { claimed: false }> {
    const token = randomUUID();
    try {
      await this.dynamo.send(
        new PutItemCommand({
          TableName: this.tables.deliveriesTable,
          Item: marshall({ postId, subscriberId, state: 'sending', claimedAt: now.toISOString(), claimToken: token }),
          ConditionExpression: 'attribute_not_exists(subscriberId)',
        }),
      );
      return { claimed: true, token };
    } catch (error) {
      if (isConditionFailure(error)) return { claimed: false };
      throw error;
    }
  }

  /** Gives a claim back after a retryable SES error, so the redelivered message can send it. */
  async releaseClaim(postId: string, subscriberId: string, token: string): Promise<boolean> {
    try {
      await this.dynamo.send(
        new DeleteItemCommand({
          TableName: this.tables.deliveriesTable,
          Key: marshall({ postId, subscriberId }),
          ConditionExpression: '#state = :sending AND claimToken = :token',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: marshall({ ':sending': 'sending', ':token': token }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async markSent(postId: string, subscriberId: string, token: string, sesMessageId: string, now: Date = new Date()): Promise<void> {
    await this.finishClaim(postId, subscriberId, token, { state: 'sent', sesMessageId, sentAt: now.toISOString() });
  }

  /**
   * Records many copies as sent in BatchWriteItem requests of 25. A put cannot carry a
   * condition, so this is only for claims the caller took itself and still holds (claims are
   * never taken over, only released by their holder). Rejects if some records stay unwritten
   * after retries; those stay `sending` and status reports them as unknown, never re-sent.
   */
  async markSentMany(records: { postId: string; subscriberId: string; claimedAt: string; sesMessageId: string; sentAt: string }[]): Promise<void> {
    for (let start = 0; start < records.length; start += BATCH_WRITE_LIMIT) {
      let requests: { PutRequest?: { Item: Record<string, AttributeValue> } }[] | undefined = records
        .slice(start, start + BATCH_WRITE_LIMIT)
        .map((record) => ({ PutRequest: { Item: marshall({ ...record, state: 'sent' }) } }));
      for (let attempt = 0; requests !== undefined && requests.length > 0; attempt++) {
        if (attempt > 0) {
          // DynamoDB hands back part of a batch under load; ask again for the rest, backing off.
          if (attempt > 5) throw new Error(`${requests.length} sent records stayed unwritten after ${attempt} attempts`);
          await new Promise((resolve) => setTimeout(resolve, Math.min(25 * 2 ** attempt, 1_000)));
        }
        const result = await this.dynamo.send(new BatchWriteItemCommand({ RequestItems: { [this.tables.deliveriesTable]: requests } }));
        requests = result.UnprocessedItems?.[this.tables.deliveriesTable] as typeof requests;
      }
    }
  }

  async markFailed(postId: string, subscriberId: string, token: string, reason: string, now: Date = new Date()): Promise<void> {
    await this.finishClaim(postId, subscriberId, token, { state: 'failed', reason, sentAt: now.toISOString() });
  }

  /**
   * Records a recipient who is no longer active. Written only if nothing was recorded yet: a
   * subscriber who left after their copy was sent stays `sent`.
   */
  async recordSkipped(postId: string, subscriberId: string, reason: string, now: Date = new Date()): Promise<void> {
    try {
      await this.dynamo.send(
        new PutItemCommand({
          TableName: this.tables.deliveriesTable,
          Item: marshall({ postId, subscriberId, state: 'skipped', reason, claimedAt: now.toISOString() }),
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
    if (!result.Item) return undefined;
    const delivery = unmarshall(result.Item) as Delivery & { transientBounces?: Set<string> };
    return { ...delivery, transientBounces: delivery.transientBounces ? [...delivery.transientBounces] : undefined };
  }

  /** SES reported this copy as a permanent bounce or complaint. Idempotent. */
  async recordFeedback(postId: string, subscriberId: string, feedback: { kind: 'bounce' } | { kind: 'complaint' } | { kind: 'transient'; feedbackId: string }): Promise<boolean> {
    const update =
      feedback.kind === 'bounce'
        ? { expression: 'SET bounce = :value', values: { ':value': 'permanent' } }
        : feedback.kind === 'complaint'
          ? { expression: 'SET complaint = :value', values: { ':value': true } }
          : { expression: 'ADD transientBounces :value', values: { ':value': new Set([feedback.feedbackId]) } };
    return this.conditionalUpdate({
      TableName: this.tables.deliveriesTable,
      Key: marshall({ postId, subscriberId }),
      UpdateExpression: update.expression,
      ConditionExpression: 'attribute_exists(subscriberId)',
      ExpressionAttributeValues: marshall(update.values),
    });
  }

  /**
   * Every post id with an issue, a page at a time. Only for finding a post whose SES tag holds
   * a hash of its id (slugs too long for a tag): one item per post keeps this scan small.
   */
  async *postIds(): AsyncGenerator<string[]> {
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.dynamo.send(
        new ScanCommand({ TableName: this.tables.issuesTable, ProjectionExpression: 'postId', ExclusiveStartKey: startKey }),
      );
      yield (page.Items ?? []).map((item) => unmarshall(item).postId as string);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  /** Every delivery of a post, a page at a time, with only what status needs. */
  async *deliveries(postId: string): AsyncGenerator<Delivery[]> {
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.dynamo.send(
        new QueryCommand({
          TableName: this.tables.deliveriesTable,
          KeyConditionExpression: 'postId = :postId',
          ExpressionAttributeValues: marshall({ ':postId': postId }),
          ExclusiveStartKey: startKey,
        }),
      );
      yield (page.Items ?? []).map((item) => {
        const delivery = unmarshall(item) as Delivery & { transientBounces?: Set<string> };
        return { ...delivery, transientBounces: delivery.transientBounces ? [...delivery.transientBounces] : undefined };
      });
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  private async finishClaim(postId: string, subscriberId: string, token: string, fields: Partial<Delivery>): Promise<void> {
    const names: Record<string, string> = { '#state': 'state' };
    const values: Record<string, unknown> = { ':sending': 'sending', ':token': token };
    const sets: string[] = [];
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      names[`#${key}`] = key;
      values[`:${key}`] = value;
      sets.push(`#${key} = :${key}`);
    }
    const finished = await this.conditionalUpdate({
      TableName: this.tables.deliveriesTable,
      Key: marshall({ postId, subscriberId }),
      UpdateExpression: `SET ${sets.join(', ')} REMOVE claimToken`,
      ConditionExpression: '#state = :sending AND claimToken = :token',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: marshall(values),
    });
    if (!finished) throw new Error(`delivery ${postId}/${subscriberId} is no longer claimed by this sender`);
  }

  private conditionalUpdate(input: ConstructorParameters<typeof UpdateItemCommand>[0]): Promise<boolean> {
    return conditionalUpdate(this.dynamo, input);
  }
}
