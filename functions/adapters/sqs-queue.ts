import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { PushletterError } from '../commons/errors';
import type { Queue } from '../commons/queue';
import { QUEUE_BATCH_LIMIT } from '../delivery/jobs';

/** SQS's longest per-message delay. */
const MAX_DELAY_SECONDS = 900;

/** The Queue port on SQS: JSON bodies, SendMessageBatch in groups of ten. */
export class SqsQueue<T> implements Queue<T> {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(messages: T[], options: { delayMs?: number } = {}): Promise<void> {
    const delaySeconds =
      options.delayMs === undefined
        ? undefined
        : Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil(options.delayMs / 1000)));
    for (let start = 0; start < messages.length; start += QUEUE_BATCH_LIMIT) {
      const group = messages.slice(start, start + QUEUE_BATCH_LIMIT);
      const result = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: group.map((message, index) => ({
            Id: String(index),
            MessageBody: JSON.stringify(message),
            DelaySeconds: delaySeconds,
          })),
        }),
      );
      // SQS answers 200 with per-entry failures; a dropped entry would be a silently skipped recipient.
      if (result.Failed && result.Failed.length > 0) {
        const first = result.Failed[0]!;
        throw new PushletterError(
          'QUEUE_SEND_FAILED',
          `SQS refused ${result.Failed.length} of ${group.length} messages (${first.Code}: ${first.Message})`,
        );
      }
    }
  }
}
