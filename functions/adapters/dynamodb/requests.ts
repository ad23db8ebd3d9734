import { ConditionalCheckFailedException, type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';

/**
 * Every guarantee here rests on conditional writes; a failed condition is an answer ("someone
 * else got there first"), not an error. Matched by name too: dynalite's errors, and a second
 * copy of the SDK in a bundle, are not instances of this package's class.
 */
export function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException'
  );
}

/** An UpdateItem whose failed condition resolves to false instead of throwing. */
export async function conditionalUpdate(
  client: DynamoDBClient,
  input: ConstructorParameters<typeof UpdateItemCommand>[0],
): Promise<boolean> {
  try {
    await client.send(new UpdateItemCommand(input));
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/**
 * Runs a batch request (BatchGetItem, BatchWriteItem) until DynamoDB has processed all of it:
 * under load it hands back part of a batch, which is asked for again with a growing pause.
 * `request` answers what was left unprocessed. Rejects after `attempts` requests.
 */
export async function untilProcessed<T>(
  items: T[],
  request: (items: T[]) => Promise<T[] | undefined>,
  backoff: { firstMs: number; maxMs: number; attempts?: number },
): Promise<void> {
  const attempts = backoff.attempts ?? 6;
  let left: T[] | undefined = items;
  for (let attempt = 0; left !== undefined && left.length > 0; attempt++) {
    if (attempt > 0) {
      if (attempt >= attempts)
        throw new Error(`${left.length} items stayed unprocessed by DynamoDB after ${attempt} attempts`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(backoff.firstMs * 2 ** attempt, backoff.maxMs)));
    }
    left = await request(left);
  }
}
