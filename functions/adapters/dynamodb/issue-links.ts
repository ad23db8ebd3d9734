import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';

/**
 * A tracked post's link list from its issue record: the one read the click redirect makes. Apart
 * from DynamoIssueStore (which uses it too) so the API function's bundle does not carry the
 * whole sending store. Written once with the issue, so an eventually consistent read is enough
 * (and half the cost).
 */
export async function readIssueLinks(
  dynamo: DynamoDBClient,
  issuesTable: string,
  postId: string,
): Promise<string[] | undefined> {
  const result = await dynamo.send(
    new GetItemCommand({ TableName: issuesTable, Key: marshall({ postId }), ProjectionExpression: 'links' }),
  );
  const links = result.Item?.links;
  return links === undefined ? undefined : (unmarshall({ links }).links as string[]);
}
