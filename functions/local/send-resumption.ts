import type { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { NOT_FOR_ATTRIBUTES } from '../adapters/dynamodb/issue-store';
import { conditionalUpdate } from '../adapters/dynamodb/requests';

/**
 * Issue-record attribute set once every send job queued for the post has been handled. Only a
 * queue that dies with its process (the local stack's) needs it: SQS keeps its messages, so on
 * AWS a `dispatched` issue always finishes and this attribute is never written.
 */
export const QUEUE_DRAINED_ATTRIBUTE = 'queueDrainedAt';

/**
 * Lets a sending pipeline whose queue is lost on a crash finish what it started. Whether a post
 * is finished is one attribute on its issue record, so a restart reads the issues only, never
 * the deliveries or the subscriber list. Restarting re-dispatches the whole list: the sender's
 * claims skip every recipient already sent, rejected or in doubt (`sending`, reported
 * `unknown`), so only recipients whose jobs were lost or dead-lettered get mail.
 */
export class SendResumption {
  constructor(
    private readonly dynamo: DynamoDBClient,
    private readonly issuesTable: string,
  ) {}

  /**
   * Records that nothing of this post is left on the queue. False while the dispatcher is still
   * paging (more jobs may come) or when the post was already marked.
   */
  async markQueueDrained(postId: string, now: Date = new Date()): Promise<boolean> {
    return this.update({
      TableName: this.issuesTable,
      Key: marshall({ postId }),
      UpdateExpression: 'SET #drained = :now',
      ConditionExpression: '#state = :dispatched AND attribute_not_exists(#drained)',
      ExpressionAttributeNames: { '#state': 'state', '#drained': QUEUE_DRAINED_ATTRIBUTE },
      ExpressionAttributeValues: marshall({ ':dispatched': 'dispatched', ':now': now.toISOString() }),
    });
  }

  /**
   * Puts a post whose queued jobs may have been lost back to the start of its dispatch: a
   * `dispatching` post (its checkpointed pages' jobs were in the lost queue too) or a
   * `dispatched` one never marked drained. `enqueued` and the readers passed over restart with
   * the cursor, so status keeps counting each reader once. False for a post that needs nothing.
   */
  async restartDispatch(postId: string): Promise<boolean> {
    return this.update({
      TableName: this.issuesTable,
      Key: marshall({ postId }),
      UpdateExpression: `SET #state = :dispatching, #cursor = :start, enqueued = :zero REMOVE dispatchedAt, ${Object.values(NOT_FOR_ATTRIBUTES).join(', ')}`,
      ConditionExpression: '#state = :dispatching OR (#state = :dispatched AND attribute_not_exists(#drained))',
      ExpressionAttributeNames: { '#state': 'state', '#cursor': 'cursor', '#drained': QUEUE_DRAINED_ATTRIBUTE },
      ExpressionAttributeValues: marshall({
        ':dispatching': 'dispatching',
        ':dispatched': 'dispatched',
        ':start': '',
        ':zero': 0,
      }),
    });
  }

  private update(input: ConstructorParameters<typeof UpdateItemCommand>[0]): Promise<boolean> {
    return conditionalUpdate(this.dynamo, input);
  }
}
