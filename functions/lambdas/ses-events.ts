import type { SNSEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { processEnvironment } from '../commons/config';
import { withLambdaContext } from '../commons/logger';
import { handleSesEventBatch, handleSesEvents } from '../feedback/ses-notifications';
import { createLambdaSendingServices, once } from '../wiring/lambda-services';

// Started during init; the handler awaits the same promise and sees any error.
const services = once(() => createLambdaSendingServices(processEnvironment()));
services().catch(() => undefined);

/**
 * SES events: batches from the events queue the configuration set's SNS topic fills. An SNS
 * event (the topic invoking the function, as it did before the queue) is still handled, so
 * events Lambda was retrying when the queue was deployed are not lost.
 */
export const handler = withLambdaContext(async (event: SQSEvent | SNSEvent): Promise<SQSBatchResponse | undefined> => {
  const { sesEvents } = await services();
  if ('Sns' in (event.Records[0] ?? {})) {
    await handleSesEvents(sesEvents, event as SNSEvent);
    return undefined;
  }
  return handleSesEventBatch(sesEvents, event as SQSEvent);
});
