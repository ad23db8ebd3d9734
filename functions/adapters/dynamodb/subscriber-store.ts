import {
  type AttributeValue,
  BatchGetItemCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Clock } from '../../commons/clock';
import { InvalidInputError } from '../../commons/errors';
import { ACTIVE_INDEX, SUBSCRIBERS_TTL_ATTRIBUTE } from '../../contract/subscriber-table';
import { normaliseAddress } from '../../subscribers/address';
import { isSubscriberId, subscriberId } from '../../subscribers/keys';
import { CONFIRM_TOKEN_LIFETIME_MS } from '../../subscribers/tokens';
import type {
  ActivePage,
  Consent,
  Frequency,
  NewSubscriber,
  PendingSignup,
  Preferences,
  ReadingChoices,
  Subscriber,
  SubscriberState,
  SubscriberStore,
} from '../../subscribers/types';
import { conditionalUpdate, isConditionFailure, untilProcessed } from './requests';

export interface DynamoSubscriberStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  idKey: Buffer;
  listName: string;
  clock: Clock;
}

/** Largest page the sender may ask for; DynamoDB returns at most 1 MB per Query anyway. */
export const MAX_PAGE_SIZE = 1000;

const STATES = new Set<SubscriberState>(['pending', 'active', 'unsubscribed', 'bounced', 'complained']);

function toSubscriber(item: Record<string, AttributeValue>): Subscriber {
  const raw = unmarshall(item) as Record<string, unknown>;
  const consent = (raw.consent ?? {}) as Partial<Consent>;
  const subscriber: Subscriber = {
    id: String(raw.id),
    email: String(raw.email),
    state: STATES.has(raw.state as SubscriberState) ? (raw.state as SubscriberState) : 'pending',
    createdAt: String(raw.createdAt),
    consent: { at: String(consent.at ?? raw.createdAt), source: String(consent.source ?? 'unknown') },
  };
  if (consent.ipHash !== undefined) subscriber.consent.ipHash = String(consent.ipHash);
  for (const key of ['confirmedAt', 'unsubscribedAt', 'suppressedAt', 'lang', 'name', 'frequencyChangedAt'] as const) {
    if (typeof raw[key] === 'string') subscriber[key] = raw[key] as string;
  }
  // A list, or a string set should another writer have used one.
  const topics = raw.topics instanceof Set ? [...raw.topics] : raw.topics;
  if (Array.isArray(topics) && topics.length > 0)
    subscriber.topics = topics.filter((topic): topic is string => typeof topic === 'string');
  if (raw.frequency === 'post' || raw.frequency === 'digest') subscriber.frequency = raw.frequency;
  return subscriber;
}

/** The choices as stored: no topics (every post) is no attribute, never an empty list. */
function storedChoices(choices: ReadingChoices): ReadingChoices {
  return {
    topics: choices.topics !== undefined && choices.topics.length > 0 ? [...choices.topics] : undefined,
    frequency: choices.frequency,
  };
}

/**
 * Conditions on the stored frequency (absent: each post) saying whether writing `next` changes
 * it or keeps it; `:digestFrequency` is 'digest'. A missing attribute compares unequal to
 * anything, hence the attribute_not_exists.
 */
function frequencyConditions(next: Frequency | undefined): { changes: string; keeps: string } {
  const digest = 'frequency = :digestFrequency';
  const notDigest = '(attribute_not_exists(frequency) OR frequency <> :digestFrequency)';
  return next === 'digest' ? { changes: notDigest, keeps: digest } : { changes: digest, keeps: notDigest };
}

/**
 * Subscribers in one DynamoDB table (see table.ts for the key design). Every state change is a
 * single conditional UpdateItem or PutItem, so concurrent requests (two form posts, a click
 * and a bounce) cannot leave an item half-changed or resurrect someone who left.
 */
export class DynamoSubscriberStore implements SubscriberStore {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly idKey: Buffer;
  private readonly listName: string;
  private readonly clock: Clock;

  constructor(options: DynamoSubscriberStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.idKey = options.idKey;
    this.listName = options.listName;
    this.clock = options.clock;
  }

  idFor(email: string): string {
    return subscriberId(this.idKey, normaliseAddress(email, { allowTypos: true }));
  }

  async get(id: string): Promise<Subscriber | undefined> {
    if (!isSubscriberId(id)) return undefined;
    const result = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { id: { S: id } }, ConsistentRead: true }),
    );
    return result.Item ? toSubscriber(result.Item) : undefined;
  }

  /** Several subscribers at once (BatchGetItem, 100 keys a request); missing ids are absent from the map. */
  async getMany(ids: string[]): Promise<Map<string, Subscriber>> {
    const found = new Map<string, Subscriber>();
    const unique = [...new Set(ids.filter(isSubscriberId))];
    for (let start = 0; start < unique.length; start += 100) {
      const keys: Record<string, AttributeValue>[] = unique.slice(start, start + 100).map((id) => ({ id: { S: id } }));
      await untilProcessed(
        keys,
        async (left) => {
          const result = await this.client.send(
            new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: left, ConsistentRead: true } } }),
          );
          for (const item of result.Responses?.[this.tableName] ?? []) {
            const subscriber = toSubscriber(item);
            found.set(subscriber.id, subscriber);
          }
          return result.UnprocessedKeys?.[this.tableName]?.Keys;
        },
        { firstMs: 50, maxMs: 2_000, attempts: 10 },
      );
    }
    return found;
  }

  async findByEmail(email: string): Promise<Subscriber | undefined> {
    return this.get(this.idFor(email));
  }

  async pageActive(cursor: string | undefined, limit: number): Promise<ActivePage> {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
      throw new InvalidInputError(
        'PAGE_SIZE_INVALID',
        `page size must be a whole number from 1 to ${MAX_PAGE_SIZE} (got ${limit})`,
      );
    }
    const result = await this.client.send(
      new QueryCommand({
        ...this.activeIndex(),
        Limit: limit,
        ...(cursor === undefined ? {} : { ExclusiveStartKey: this.decodeCursor(cursor) }),
      }),
    );
    // The index is eventually consistent: an item that left a moment ago can still be listed.
    // The sender re-reads state before it sends, so only active items are passed on here.
    const subscribers = (result.Items ?? []).map(toSubscriber).filter((subscriber) => subscriber.state === 'active');
    return { subscribers, cursor: result.LastEvaluatedKey ? this.encodeCursor(result.LastEvaluatedKey) : undefined };
  }

  async countActive(): Promise<number> {
    let count = 0;
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const result = await this.client.send(
        new QueryCommand({ ...this.activeIndex(), Select: 'COUNT', ExclusiveStartKey: startKey }),
      );
      count += result.Count ?? 0;
      startKey = result.LastEvaluatedKey;
    } while (startKey !== undefined);
    return count;
  }

  /** A query of this list's active subscribers on the sparse index. */
  private activeIndex() {
    return {
      TableName: this.tableName,
      IndexName: ACTIVE_INDEX,
      KeyConditionExpression: 'activeList = :list',
      ExpressionAttributeValues: { ':list': { S: this.listName } },
    };
  }

  async suppress(id: string, state: 'bounced' | 'complained', at: Date): Promise<SubscriberState | undefined> {
    const old = await this.updateReturningOld({
      TableName: this.tableName,
      Key: { id: { S: id } },
      // A complaint about a confirmation email outlives the pending record's expiry: that
      // mailbox is never mailed again.
      UpdateExpression: `SET #state = :state, suppressedAt = :at REMOVE activeList${state === 'complained' ? `, ${SUBSCRIBERS_TTL_ATTRIBUTE}` : ''}`,
      // A complaint outranks a bounce: a later bounce must not turn a complainer back into
      // someone a new opt-in may mail. A forgotten (deleted) person stays deleted. Already
      // in this state: nothing changes, so an event SNS delivers twice counts once.
      ConditionExpression:
        state === 'bounced'
          ? 'attribute_exists(id) AND #state <> :complained AND #state <> :state'
          : 'attribute_exists(id) AND #state <> :state',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: {
        ':state': { S: state },
        ':at': { S: at.toISOString() },
        ...(state === 'bounced' ? { ':complained': { S: 'complained' } } : {}),
      },
    });
    return old?.state?.S as SubscriberState | undefined;
  }

  async upsertPending(input: PendingSignup): Promise<{ id: string; stored: boolean }> {
    const email = normaliseAddress(input.email, { allowTypos: true });
    const id = subscriberId(this.idKey, email);
    const now = this.clock.now().toISOString();
    const values: Record<string, unknown> = {
      ':pending': 'pending',
      ':unsubscribed': 'unsubscribed',
      ':bounced': 'bounced',
      ':email': email,
      ':list': this.listName,
      ':now': now,
      ':consent': stripUndefined(input.consent),
      // Deleted (DynamoDB TTL, the local sweep) when this signup's confirmation link stops working.
      ':expires': epochSeconds(this.clock.now().getTime() + CONFIRM_TOKEN_LIFETIME_MS),
      ':digestFrequency': 'digest',
    };
    let update = `SET email = :email, #list = :list, #state = :pending, createdAt = if_not_exists(createdAt, :now), consent = :consent, ${SUBSCRIBERS_TTL_ATTRIBUTE} = :expires`;
    if (input.lang !== undefined) {
      update += ', lang = :lang';
      values[':lang'] = input.lang;
    }
    // A new signup's choices replace the earlier ones whole: what it leaves out is removed.
    const removed = ['activeList'];
    const { topics, frequency } = storedChoices(input);
    if (topics !== undefined) {
      update += ', topics = :topics';
      values[':topics'] = topics;
    } else removed.push('topics');
    if (frequency !== undefined) {
      update += ', frequency = :frequency';
      values[':frequency'] = frequency;
    } else removed.push('frequency');
    // Active readers stay active (a second signup changes nothing); complained ones are never
    // mailed again, not even a confirmation request. A stored address whose frequency this
    // changes notes when (the digest goes by it); a new one has never had another.
    const mayStore = '#state IN (:pending, :unsubscribed, :bounced)';
    const { changes, keeps } = frequencyConditions(frequency);
    const stored = await this.firstThatApplies(
      [
        {
          UpdateExpression: `${update} REMOVE ${removed.join(', ')}`,
          ConditionExpression: `attribute_not_exists(id) OR (${mayStore} AND ${keeps})`,
        },
        {
          UpdateExpression: `${update}, frequencyChangedAt = :now REMOVE ${removed.join(', ')}`,
          ConditionExpression: `${mayStore} AND ${changes}`,
        },
      ],
      id,
      { '#state': 'state', '#list': 'list' },
      values,
    );
    return { id, stored };
  }

  async createIfAbsent(input: NewSubscriber): Promise<{ id: string; created: boolean }> {
    const email = normaliseAddress(input.email, { allowTypos: true });
    const id = subscriberId(this.idKey, email);
    const now = this.clock.now().toISOString();
    const item: Record<string, unknown> = {
      id,
      email,
      list: this.listName,
      state: input.state,
      createdAt: input.createdAt ?? now,
      consent: stripUndefined(input.consent),
      lang: input.lang,
      name: input.name,
      ...storedChoices(input),
    };
    if (input.state === 'active') {
      item.confirmedAt = now;
      item.activeList = this.listName;
    } else {
      // An imported reader asked to confirm is kept as long as a form signup: 7 days.
      item[SUBSCRIBERS_TTL_ATTRIBUTE] = epochSeconds(this.clock.now().getTime() + CONFIRM_TOKEN_LIFETIME_MS);
    }
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall(item, { removeUndefinedValues: true }),
          ConditionExpression: 'attribute_not_exists(id)',
        }),
      );
      return { id, created: true };
    } catch (error) {
      if (isConditionFailure(error)) return { id, created: false };
      throw error;
    }
  }

  async claimConfirmation(id: string, windowMs: number): Promise<string | undefined> {
    const now = this.clock.now();
    const claimedAt = now.toISOString();
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { id: { S: id } },
          // The record lasts as long as the link this email carries (an import asks again).
          UpdateExpression: 'SET lastConfirmationAt = :now, #expires = :expires',
          // ISO timestamps compare correctly as strings. Two concurrent signups both pass the
          // read-free condition only once: the second sees the first's timestamp.
          ConditionExpression:
            '#state = :pending AND (attribute_not_exists(lastConfirmationAt) OR lastConfirmationAt <= :cutoff)',
          ExpressionAttributeNames: { '#state': 'state', '#expires': SUBSCRIBERS_TTL_ATTRIBUTE },
          ExpressionAttributeValues: marshall({
            ':now': claimedAt,
            ':pending': 'pending',
            ':cutoff': new Date(now.getTime() - windowMs).toISOString(),
            ':expires': epochSeconds(now.getTime() + CONFIRM_TOKEN_LIFETIME_MS),
          }),
        }),
      );
      return claimedAt;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  async releaseConfirmation(id: string, claimedAt: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { id: { S: id } },
          UpdateExpression: 'REMOVE lastConfirmationAt',
          ConditionExpression: 'lastConfirmationAt = :claimedAt',
          ExpressionAttributeValues: { ':claimedAt': { S: claimedAt } },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async activate(id: string, { owesWelcome } = { owesWelcome: true }): Promise<boolean> {
    return this.conditionalUpdate({
      TableName: this.tableName,
      Key: { id: { S: id } },
      // The welcome is owed in the same write that activates: a crash after it cannot lose it.
      UpdateExpression: `SET #state = :active, confirmedAt = :now, activeList = :list${owesWelcome ? ', welcomeOwed = :now' : ''} REMOVE unsubscribedAt, suppressedAt, remindedAt, ${SUBSCRIBERS_TTL_ATTRIBUTE}`,
      ConditionExpression: '#state = :pending',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: marshall({
        ':active': 'active',
        ':pending': 'pending',
        ':now': this.clock.now().toISOString(),
        ':list': this.listName,
      }),
    });
  }

  async claimWelcome(id: string, staleBefore: Date): Promise<{ claimedAt: string } | 'held' | 'not-owed'> {
    const claimedAt = this.clock.now().toISOString();
    const claimed = await this.conditionalUpdate({
      TableName: this.tableName,
      Key: { id: { S: id } },
      UpdateExpression: 'SET welcomeClaimedAt = :claimedAt',
      ConditionExpression:
        '#state = :active AND attribute_exists(welcomeOwed) AND (attribute_not_exists(welcomeClaimedAt) OR welcomeClaimedAt < :stale)',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: marshall({
        ':claimedAt': claimedAt,
        ':active': 'active',
        ':stale': staleBefore.toISOString(),
      }),
    });
    if (claimed) return { claimedAt };
    const result = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { id: { S: id } },
        ConsistentRead: true,
        ProjectionExpression: '#state, welcomeOwed',
        ExpressionAttributeNames: { '#state': 'state' },
      }),
    );
    return result.Item?.state?.S === 'active' && result.Item.welcomeOwed !== undefined ? 'held' : 'not-owed';
  }

  async finishWelcome(id: string, claimedAt: string): Promise<void> {
    await this.conditionalUpdate({
      TableName: this.tableName,
      Key: { id: { S: id } },
      UpdateExpression: 'SET welcomeSentAt = :now REMOVE welcomeOwed, welcomeClaimedAt',
      ConditionExpression: 'welcomeClaimedAt = :claimedAt',
      ExpressionAttributeValues: marshall({ ':now': this.clock.now().toISOString(), ':claimedAt': claimedAt }),
    });
  }

  async releaseWelcome(id: string, claimedAt: string): Promise<void> {
    await this.giveBack(id, 'welcomeClaimedAt', claimedAt);
  }

  async claimReminder(id: string, confirmedBefore: Date): Promise<string | undefined> {
    const now = this.clock.now();
    const claimedAt = now.toISOString();
    const claimed = await this.conditionalUpdate({
      TableName: this.tableName,
      Key: { id: { S: id } },
      UpdateExpression: 'SET remindedAt = :claimedAt',
      // Not past its expiry either: DynamoDB's TTL may take days to delete an expired item.
      ConditionExpression: `#state = :pending AND attribute_not_exists(remindedAt) AND lastConfirmationAt <= :before AND #expires > :now`,
      ExpressionAttributeNames: { '#state': 'state', '#expires': SUBSCRIBERS_TTL_ATTRIBUTE },
      ExpressionAttributeValues: marshall({
        ':claimedAt': claimedAt,
        ':pending': 'pending',
        ':before': confirmedBefore.toISOString(),
        ':now': epochSeconds(now.getTime()),
      }),
    });
    return claimed ? claimedAt : undefined;
  }

  async releaseReminder(id: string, claimedAt: string): Promise<void> {
    await this.giveBack(id, 'remindedAt', claimedAt);
  }

  /** Removes a claim mark, only while it is still the caller's (`claimedAt`). */
  private async giveBack(id: string, attribute: 'welcomeClaimedAt' | 'remindedAt', claimedAt: string): Promise<void> {
    await this.conditionalUpdate({
      TableName: this.tableName,
      Key: { id: { S: id } },
      UpdateExpression: `REMOVE ${attribute}`,
      ConditionExpression: `${attribute} = :claimedAt`,
      ExpressionAttributeValues: marshall({ ':claimedAt': claimedAt }),
    });
  }

  async deactivate(id: string): Promise<'active' | 'pending' | undefined> {
    const old = await this.updateReturningOld({
      TableName: this.tableName,
      Key: { id: { S: id } },
      UpdateExpression: 'SET #state = :unsubscribed, unsubscribedAt = :now REMOVE activeList',
      ConditionExpression: '#state IN (:active, :pending)',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: marshall({
        ':unsubscribed': 'unsubscribed',
        ':active': 'active',
        ':pending': 'pending',
        ':now': this.clock.now().toISOString(),
      }),
    });
    if (old === undefined) return undefined;
    return old.state?.S === 'active' ? 'active' : 'pending';
  }

  async updatePreferences(id: string, { topics, frequency, lang }: Preferences): Promise<boolean> {
    const update = `SET frequency = :frequency, lang = :lang${topics.length > 0 ? ', topics = :topics' : ''}`;
    const removed = topics.length > 0 ? '' : ' REMOVE topics';
    const mayChange = '#state IN (:active, :pending)';
    const { changes, keeps } = frequencyConditions(frequency);
    return this.firstThatApplies(
      [
        { UpdateExpression: `${update}${removed}`, ConditionExpression: `${mayChange} AND ${keeps}` },
        {
          UpdateExpression: `${update}, frequencyChangedAt = :now${removed}`,
          ConditionExpression: `${mayChange} AND ${changes}`,
        },
      ],
      id,
      { '#state': 'state' },
      {
        ':frequency': frequency,
        ':lang': lang,
        ':active': 'active',
        ':pending': 'pending',
        ':digestFrequency': 'digest',
        ':now': this.clock.now().toISOString(),
        ...(topics.length > 0 ? { ':topics': topics } : {}),
      },
    );
  }

  /**
   * The first of these conditional updates whose condition holds, false when none does. Each
   * is one atomic write; a second round covers a concurrent write that moved the item from one
   * condition to the other between two tries.
   */
  private async firstThatApplies(
    writes: { UpdateExpression: string; ConditionExpression: string }[],
    id: string,
    names: Record<string, string>,
    values: Record<string, unknown>,
  ): Promise<boolean> {
    for (let round = 0; round < 2; round++) {
      for (const write of writes) {
        // Each write passes only the values it uses: DynamoDB refuses unused ones.
        const used = new Set(`${write.UpdateExpression} ${write.ConditionExpression}`.match(/:\w+/g));
        const applied = await this.conditionalUpdate({
          TableName: this.tableName,
          Key: { id: { S: id } },
          ...write,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: marshall(
            Object.fromEntries(Object.entries(values).filter(([name]) => used.has(name))),
          ),
        });
        if (applied) return true;
      }
    }
    return false;
  }

  async delete(id: string): Promise<boolean> {
    if (!isSubscriberId(id)) return false;
    const result = await this.client.send(
      new DeleteItemCommand({ TableName: this.tableName, Key: { id: { S: id } }, ReturnValues: 'ALL_OLD' }),
    );
    return result.Attributes !== undefined;
  }

  async *scanAll(pageSize = 500): AsyncGenerator<Subscriber[]> {
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const result = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          Limit: pageSize,
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      startKey = result.LastEvaluatedKey;
      const page = (result.Items ?? []).map(toSubscriber);
      if (page.length > 0) yield page;
    } while (startKey !== undefined);
  }

  /** Subscribers by state, read with a projected scan (only the state attribute crosses the wire). */
  async countByState(): Promise<Record<SubscriberState, number>> {
    const counts: Record<SubscriberState, number> = {
      pending: 0,
      active: 0,
      unsubscribed: 0,
      bounced: 0,
      complained: 0,
    };
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const result = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          ProjectionExpression: '#state',
          ExpressionAttributeNames: { '#state': 'state' },
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of result.Items ?? []) {
        const state = item.state?.S as SubscriberState | undefined;
        if (state !== undefined && state in counts) counts[state]++;
      }
      startKey = result.LastEvaluatedKey;
    } while (startKey !== undefined);
    return counts;
  }

  /**
   * False when stored ids were made with another key: a CLI pointed at the wrong secrets file
   * would otherwise create a second item for every address it touches.
   */
  async idKeyMatchesStoredData(): Promise<boolean> {
    const result = await this.client.send(
      new ScanCommand({ TableName: this.tableName, Limit: 1, ProjectionExpression: 'id, email' }),
    );
    const item = result.Items?.[0];
    if (item?.id?.S === undefined || item.email?.S === undefined) return true;
    return subscriberId(this.idKey, item.email.S) === item.id.S;
  }

  /**
   * A conditional UpdateItem that answers the changed attributes as they were before it,
   * undefined when its condition failed (or the id cannot be one of ours).
   */
  private async updateReturningOld(
    input: ConstructorParameters<typeof UpdateItemCommand>[0],
  ): Promise<Record<string, AttributeValue> | undefined> {
    if (!isSubscriberId((input.Key?.id as { S?: string } | undefined)?.S)) return undefined;
    try {
      const result = await this.client.send(new UpdateItemCommand({ ...input, ReturnValues: 'UPDATED_OLD' }));
      return result.Attributes ?? {};
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return undefined;
    }
  }

  private async conditionalUpdate(input: ConstructorParameters<typeof UpdateItemCommand>[0]): Promise<boolean> {
    if (!isSubscriberId((input.Key?.id as { S?: string } | undefined)?.S)) return false;
    return conditionalUpdate(this.client, input);
  }

  private encodeCursor(key: Record<string, AttributeValue>): string {
    const id = key.id?.S;
    const list = key.activeList?.S;
    return Buffer.from(JSON.stringify({ l: list, i: id }), 'utf8').toString('base64url');
  }

  /** A cursor is opaque to callers but comes back from queues and people: check it fully. */
  private decodeCursor(cursor: string): Record<string, AttributeValue> {
    const invalid = () =>
      new InvalidInputError(
        'CURSOR_INVALID',
        'the page cursor is damaged or belongs to another list; start again without a cursor',
      );
    if (typeof cursor !== 'string' || !/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) throw invalid();
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    } catch {
      throw invalid();
    }
    const { l, i } = (parsed ?? {}) as { l?: unknown; i?: unknown };
    if (l !== this.listName || !isSubscriberId(i) || Object.keys(parsed as object).length !== 2) throw invalid();
    return { activeList: { S: l }, id: { S: i } };
  }
}

function epochSeconds(milliseconds: number): number {
  return Math.ceil(milliseconds / 1000);
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}
