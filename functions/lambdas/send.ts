import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { processEnvironment } from '../commons/config';
import { withLambdaContext } from '../commons/logger';
import { handleSendQueueEvent } from '../delivery/delivery-worker';
import { createLambdaSendingServices, once } from '../wiring/lambda-services';

// Started during init; the handler awaits the same promise and sees any error.
const services = once(() => createLambdaSendingServices(processEnvironment(), { askQuota: true }));
services().catch(() => undefined);

/** Send-queue consumer: each message is a post id and a batch of recipient ids. */
export const handler = withLambdaContext(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const { sender } = await services();
  return handleSendQueueEvent(sender, event, Date.now() + context.getRemainingTimeInMillis());
});
