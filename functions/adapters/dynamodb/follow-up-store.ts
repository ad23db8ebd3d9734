import { DeleteItemCommand, type DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { FollowUp, FollowUpKind, FollowUps } from '../../subscribers/follow-ups';

const PARTITION = 'followup';
const KINDS = new Set<string>(['welcome', 'reminder']);

/**
 * Follow-ups in the limits table (contract/limits-table.ts): `pk = followup`, `sk = <due at>#<kind>#<subscriber id>`.
 * ISO times sort as strings, so the due ones are one Query from the start of the partition up
 * to now: no scan of the subscribers, whatever their number.
 */
export class DynamoFollowUps implements FollowUps {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async add(kind: FollowUpKind, subscriberId: string, dueAt: Date): Promise<FollowUp> {
    const key = `${dueAt.toISOString()}#${kind}#${subscriberId}`;
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: { pk: { S: PARTITION }, sk: { S: key } },
      }),
    );
    return { kind, subscriberId, key };
  }

  async due(now: Date, limit: number): Promise<FollowUp[]> {
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        // `#` sorts after every character of an ISO time, so this takes all due at `now`.
        KeyConditionExpression: 'pk = :partition AND sk <= :now',
        ExpressionAttributeValues: { ':partition': { S: PARTITION }, ':now': { S: `${now.toISOString()}~` } },
        ConsistentRead: true,
        Limit: limit,
      }),
    );
    return (result.Items ?? []).map((item) => {
      const key = item.sk?.S ?? '';
      const [, kind = '', subscriberId = ''] = key.split('#');
      // An item not written here names no subscriber: looked at, nothing is owed, and it goes.
      return { kind: KINDS.has(kind) ? (kind as FollowUpKind) : 'reminder', subscriberId, key };
    });
  }

  async remove(followUp: FollowUp): Promise<void> {
    await this.client.send(
      new DeleteItemCommand({ TableName: this.tableName, Key: { pk: { S: PARTITION }, sk: { S: followUp.key } } }),
    );
  }
}
