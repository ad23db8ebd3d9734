import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { PushletterError } from '../commons/errors';
import type { Queue } from '../commons/queue';
import type { DispatchJob } from '../contract/messages';

/**
 * Starts the dispatcher Lambda now with an asynchronous invoke (`Event`): Lambda queues the
 * event, retries it on failure and sends it to the dispatcher's dead-letter queue after that,
 * so the ingest function returns as soon as Lambda accepted the job.
 */
export class DispatcherInvoker implements Queue<DispatchJob> {
  constructor(
    private readonly client: LambdaClient,
    private readonly functionArn: string,
  ) {}

  async send(jobs: DispatchJob[]): Promise<void> {
    for (const job of jobs) {
      const result = await this.client.send(
        new InvokeCommand({
          FunctionName: this.functionArn,
          InvocationType: 'Event',
          Payload: Buffer.from(JSON.stringify(job)),
        }),
      );
      if (result.StatusCode !== 202) {
        throw new PushletterError(
          'DISPATCH_INVOKE_FAILED',
          `Lambda did not accept the dispatch of ${job.postId} (status ${result.StatusCode})`,
        );
      }
    }
  }
}
