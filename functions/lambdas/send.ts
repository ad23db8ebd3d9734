import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { withLambdaContext } from '../commons/logger';
import { lambdaSendingServices } from '../wiring/lambda-services';
import { handleSendQueueEvent } from '../delivery/delivery-worker';

// Started during init; the handler awaits the same promise and sees any error.
lambdaSendingServices({ askQuota: true }).catch(() => undefined);

/** Send-queue consumer: each message is a post id and a batch of recipient ids. */
export const handler = withLambdaContext(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const { sender } = await lambdaSendingServices({ askQuota: true });
  return handleSendQueueEvent(sender, event, Date.now() + context.getRemainingTimeInMillis());
});
