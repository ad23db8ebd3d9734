import { DeleteItemCommand, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { isConditionFailure } from '../adapters/dynamodb/requests';
import type { Clock } from '../commons/clock';
import { SUBSCRIBERS_TTL_ATTRIBUTE } from '../contract/subscriber-table';

/**
 * What DynamoDB's TTL does on AWS, for dynalite, which has none: deletes the subscribers past
 * their `expiresAt` (pending signups 7 days old). A scan is fine for the local table; each
 * delete checks the expiry again, so a signup renewed meanwhile stays. Resolves to how many
 * were deleted.
 */
export async function deleteExpiredSubscribers(
  client: DynamoDBClient,
  tableName: string,
  clock: Clock,
): Promise<number> {
  const now = { N: String(Math.floor(clock.now().getTime() / 1000)) };
  const expired = {
    ConditionExpression: '#expires <= :now',
    ExpressionAttributeNames: { '#expires': SUBSCRIBERS_TTL_ATTRIBUTE },
    ExpressionAttributeValues: { ':now': now },
  };
  let deleted = 0;
  let startKey: Record<string, never> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: expired.ConditionExpression,
        ExpressionAttributeNames: expired.ExpressionAttributeNames,
        ExpressionAttributeValues: expired.ExpressionAttributeValues,
        ProjectionExpression: 'id',
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      try {
        await client.send(new DeleteItemCommand({ TableName: tableName, Key: { id: item.id! }, ...expired }));
        deleted++;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    startKey = page.LastEvaluatedKey as typeof startKey;
  } while (startKey);
  return deleted;
}
