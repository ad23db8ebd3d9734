import type { SNSEvent } from 'aws-lambda';
import { lambdaSendingPorts } from './compose/lambda';
import { handleSesEvents } from './sending/events';

// Started during init; the handler awaits the same promise and sees any error.
lambdaSendingPorts().catch(() => undefined);

/** SES bounce and complaint notifications from the configuration set's SNS topic. */
export const handler = async (event: SNSEvent): Promise<void> => {
  const { sesEvents } = await lambdaSendingPorts();
  await handleSesEvents(sesEvents, event);
};
