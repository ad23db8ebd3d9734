import type { SNSEvent } from 'aws-lambda';
import { lambdaSendingPorts } from '../wiring/lambda-services';
import { handleSesEvents } from '../feedback/ses-notifications';

/** SES bounce and complaint notifications from the configuration set's SNS topic. */
export const handler = async (event: SNSEvent): Promise<void> => {
  const { sesEvents } = await lambdaSendingPorts();
  await handleSesEvents(sesEvents, event);
};
