import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { Clock } from '../../commons/clock';
import type { WindowLimit } from '../../commons/config';
import { LIMITS_TTL_ATTRIBUTE } from '../../contract/limits-table';
import { retryTime, type SignupLimits, type Verdict, type WaitingConfirmation } from '../../subscribers/signup-limits';
import { conditionalUpdate, isConditionFailure } from './requests';

/** Lost races on one log before the request is refused for now (it only happens in a burst). */
const WRITE_ATTEMPTS = 6;
/** Refusals remembered in this process, so a flood costs no database request per hit. */
const MAX_REMEMBERED = 10_000;
const HOUR_MS = 60 * 60 * 1000;
const WAITING = 'waiting';
/** A waiting confirmation claimed by a sender that died is taken again after this. */
const CLAIM_MS = 5 * 60 * 1000;

/**
 * The signup limits and the confirmations waiting for the hourly cap in one DynamoDB table
 * (contract/limits-table.ts).
 */
export class DynamoSignupLimits implements SignupLimits {
  private readonly blockedUntil = new Map<string, number>();

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly clock: Clock,
  ) {}

  /**
   * Records one hit on `key` if every rule allows it (at most `limit` hits in any `windowMs`:
   * a sliding window, so no burst at a window's edge). Refused hits are not recorded.
   */
  async hit(key: string, rules: readonly WindowLimit[]): Promise<Verdict> {
    const now = this.clock.now().getTime();
    const blocked = this.blockedUntil.get(key);
    if (blocked !== undefined && blocked > now) return { allowed: false, retryAt: new Date(blocked) };
    const longest = Math.max(...rules.map((rule) => rule.windowMs));
    const keep = Math.max(...rules.map((rule) => rule.limit));
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const result = await this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: key }, sk: { S: 'log' } },
          ConsistentRead: true,
        }),
      );
      const item = result.Item;
      const live = item !== undefined && Number(item[LIMITS_TTL_ATTRIBUTE]?.N ?? 0) * 1000 > now;
      const hits = live ? (item.hits?.L ?? []).map((value) => Number(value.N)).filter((at) => at > now - longest) : [];
      const retryAt = retryTime(hits, rules, now);
      if (retryAt !== undefined) {
        this.remember(key, retryAt);
        return { allowed: false, retryAt: new Date(retryAt) };
      }
      const next = [...hits, now].slice(-keep);
      const version = Number(item?.version?.N ?? 0);
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: {
              pk: { S: key },
              sk: { S: 'log' },
              hits: { L: next.map((at) => ({ N: String(at) })) },
              version: { N: String(version + 1) },
              [LIMITS_TTL_ATTRIBUTE]: { N: String(Math.ceil((now + longest) / 1000)) },
            },
            ConditionExpression: item === undefined ? 'attribute_not_exists(pk)' : 'version = :version',
            ...(item === undefined ? {} : { ExpressionAttributeValues: { ':version': { N: String(version) } } }),
          }),
        );
        return { allowed: true };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    // Lost every race: many requests on one key at once, which people do not make.
    return { allowed: false, retryAt: new Date(now + 1_000) };
  }

  private remember(key: string, until: number): void {
    if (this.blockedUntil.size >= MAX_REMEMBERED) this.blockedUntil.clear();
    this.blockedUntil.set(key, until);
  }

  /**
   * Takes one of this clock hour's `cap` confirmation emails; false when they are all gone.
   * One atomic counter per hour, so a crowd of signups never retries against each other.
   */
  async takeHourSlot(cap: number): Promise<boolean> {
    return conditionalUpdate(this.client, {
      TableName: this.tableName,
      Key: this.hourKey(),
      UpdateExpression: 'ADD sent :one SET #expires = if_not_exists(#expires, :expires)',
      ConditionExpression: 'attribute_not_exists(sent) OR sent < :cap',
      ExpressionAttributeNames: { '#expires': LIMITS_TTL_ATTRIBUTE },
      ExpressionAttributeValues: {
        ':one': { N: '1' },
        ':cap': { N: String(cap) },
        ':expires': { N: String(Math.ceil((this.clock.now().getTime() + 2 * HOUR_MS) / 1000)) },
      },
    });
  }

  /** A slot whose email failed to send goes back, so the hour's budget counts only real emails. */
  async giveBackHourSlot(): Promise<void> {
    await conditionalUpdate(this.client, {
      TableName: this.tableName,
      Key: this.hourKey(),
      UpdateExpression: 'ADD sent :minus',
      ConditionExpression: 'sent > :zero',
      ExpressionAttributeValues: { ':minus': { N: '-1' }, ':zero': { N: '0' } },
    });
  }

  private hourKey() {
    const hour = this.clock.now().toISOString().slice(0, 13);
    return { pk: { S: 'hour' }, sk: { S: hour } };
  }

  /** Puts a confirmation in line for a later hour. Kept until sent: no expiry. */
  async enqueue(subscriberId: string): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          pk: { S: WAITING },
          sk: { S: `${this.clock.now().toISOString()}#${subscriberId}` },
          subscriberId: { S: subscriberId },
        },
      }),
    );
  }

  /** The oldest waiting confirmations first. */
  async waiting(limit: number): Promise<WaitingConfirmation[]> {
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :waiting',
        ExpressionAttributeValues: { ':waiting': { S: WAITING } },
        ConsistentRead: true,
        Limit: limit,
      }),
    );
    return (result.Items ?? []).map((item) => ({ sk: item.sk!.S!, subscriberId: item.subscriberId!.S! }));
  }

  /** One sender at a time per waiting confirmation (the schedule and a timer may overlap). */
  async claim(waiting: WaitingConfirmation): Promise<boolean> {
    const now = this.clock.now().getTime();
    return conditionalUpdate(this.client, {
      TableName: this.tableName,
      Key: { pk: { S: WAITING }, sk: { S: waiting.sk } },
      UpdateExpression: 'SET claimedAt = :now',
      ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(claimedAt) OR claimedAt < :stale)',
      ExpressionAttributeValues: { ':now': { N: String(now) }, ':stale': { N: String(now - CLAIM_MS) } },
    });
  }

  /** Gives a claim back after a failed send, so the next run retries at once. */
  async release(waiting: WaitingConfirmation): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: WAITING }, sk: { S: waiting.sk } },
        UpdateExpression: 'REMOVE claimedAt',
      }),
    );
  }

  async remove(waiting: WaitingConfirmation): Promise<void> {
    await this.client.send(
      new DeleteItemCommand({ TableName: this.tableName, Key: { pk: { S: WAITING }, sk: { S: waiting.sk } } }),
    );
  }
}
