import type { SNSEvent } from 'aws-lambda';
import { processEnvironment } from '../commons/config';
import { withLambdaContext } from '../commons/logger';
import { handleSesEvents } from '../feedback/ses-notifications';
import { createLambdaSendingServices, once } from '../wiring/lambda-services';

// Started during init; the handler awaits the same promise and sees any error.
const services = once(() => createLambdaSendingServices(processEnvironment()));
services().catch(() => undefined);

/** SES bounce and complaint notifications from the configuration set's SNS topic. */
export const handler = withLambdaContext(async (event: SNSEvent): Promise<void> => {
  const { sesEvents } = await services();
  await handleSesEvents(sesEvents, event);
});
