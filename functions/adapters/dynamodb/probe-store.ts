import { type DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { ProbeBounces } from '../../feedback/ses-notifications';

/**
 * `pushletter doctor --aws` sends one message, tagged with a probe id, to the SES mailbox
 * simulator's bounce address through the stack's configuration set. When SES reports the
 * bounce, ses-events writes a small item here and the doctor reads it: proof that the whole
 * bounce path (configuration set → SNS → ses-events → DynamoDB) works.
 *
 * The items live in the deliveries table, the one table ses-events already writes, under a
 * partition key no post id can take (post ids never start with '~'), and expire after a day.
 */
export const PROBE_PARTITION = '~doctor-probe';

const PROBE_LIFETIME_SECONDS = 24 * 3600;

export interface ProbeBounce {
  probeId: string;
  bounceType: string;
  recordedAt: string;
}

export class ProbeStore implements ProbeBounces {
  constructor(
    private readonly dynamo: DynamoDBClient,
    private readonly deliveriesTable: string,
  ) {}

  /** Idempotent: SNS delivering the event twice rewrites the same item. */
  async recordBounce(probeId: string, bounceType: string, now: Date): Promise<void> {
    // UpdateItem, the write ses-events already makes for feedback, so its role needs nothing new.
    await this.dynamo.send(
      new UpdateItemCommand({
        TableName: this.deliveriesTable,
        Key: marshall({ postId: PROBE_PARTITION, subscriberId: probeId }),
        UpdateExpression: 'SET bounceType = :type, recordedAt = :at, expiresAt = :expires',
        ExpressionAttributeValues: marshall({
          ':type': bounceType,
          ':at': now.toISOString(),
          ':expires': Math.floor(now.getTime() / 1000) + PROBE_LIFETIME_SECONDS,
        }),
      }),
    );
  }

  async findBounce(probeId: string): Promise<ProbeBounce | undefined> {
    const result = await this.dynamo.send(
      new GetItemCommand({
        TableName: this.deliveriesTable,
        Key: marshall({ postId: PROBE_PARTITION, subscriberId: probeId }),
        ConsistentRead: true,
      }),
    );
    if (result.Item === undefined) return undefined;
    const item = unmarshall(result.Item);
    return { probeId, bounceType: String(item.bounceType), recordedAt: String(item.recordedAt) };
  }
}
