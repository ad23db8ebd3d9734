import { ConditionalCheckFailedException, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * Every guarantee here rests on conditional writes; a failed condition is an answer ("someone
 * else got there first"), not an error. Matched by name too: dynalite's errors, and a second
 * copy of the SDK in a bundle, are not instances of this package's class.
 */
export function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';
}

/** An UpdateItem whose failed condition resolves to false instead of throwing. */
export async function conditionalUpdate(client: DynamoDBClient, input: ConstructorParameters<typeof UpdateItemCommand>[0]): Promise<boolean> {
  try {
    await client.send(new UpdateItemCommand(input));
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}
