import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { lambdaSendingPorts } from './compose/lambda';
import { handleSendQueueEvent } from './sending/send';

// Started during init; the handler awaits the same promise and sees any error.
lambdaSendingPorts({ askQuota: true }).catch(() => undefined);

/** Send-queue consumer: each message is a post id and a batch of recipient ids. */
export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const { sender } = await lambdaSendingPorts({ askQuota: true });
  return handleSendQueueEvent(sender, event, Date.now() + context.getRemainingTimeInMillis());
};
