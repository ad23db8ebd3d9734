import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { HTTP_CALLS } from '../adapters/aws-clients';
import { processEnvironment } from '../commons/config';
import { withLambdaContext } from '../commons/logger';
import { apiGatewayHandler } from '../http/api-gateway';
import { createHttpApp } from '../http/app';
import type { HttpApp } from '../http/types';
import { createLambdaServices, once } from '../wiring/lambda-services';
import { signupProtection } from '../wiring/signup';

/**
 * The HTTP API Lambda: signup page, subscribe, confirm, unsubscribe (functions/http/route-table.ts).
 * An EventBridge schedule also invokes it every few minutes to send the confirmations that
 * waited for the hourly cap, the confirmation reminders and any welcome email a confirming
 * request could not send (it is the one function with the limits table). Only this entry
 * names the signup protection: its ~1 MB disposable-domain list stays out of the other bundles.
 */
let app: HttpApp | undefined;

// Started during init, with AWS calls short enough to answer within the function's timeout;
// the handler awaits the same promise and sees any error.
const services = once(() => createLambdaServices(processEnvironment(), HTTP_CALLS, { protection: signupProtection }));
services().catch(() => undefined);

const http = apiGatewayHandler(async () => (app ??= createHttpApp((await services()).http)));

interface ScheduledEvent {
  'detail-type': 'Scheduled Event';
}

function isScheduled(event: unknown): event is ScheduledEvent {
  return (event as Partial<ScheduledEvent> | undefined)?.['detail-type'] === 'Scheduled Event';
}

export const handler = withLambdaContext(async (event: APIGatewayProxyEventV2 | ScheduledEvent) => {
  if (isScheduled(event)) {
    const { subscriptions } = await services();
    const sent = await subscriptions.sendWaitingConfirmations();
    return { sent, ...(await subscriptions.sendDueFollowUps()) };
  }
  return http(event);
});
