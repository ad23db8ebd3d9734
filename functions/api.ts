import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { HTTP_CALLS } from './commons/clients';
import { lambdaPorts, useSignupProtection } from './compose/lambda';
import { signupProtection } from './compose/signup';
import { apiGatewayHandler } from './http/api-gateway';
import { createHttpApp, type HttpApp } from './http/app';

/**
 * The HTTP API Lambda: signup page, subscribe, confirm, unsubscribe (see functions/http/routes).
 * An EventBridge schedule also invokes it every few minutes to send the confirmations that
 * waited for the hourly cap (it is the one function with the limits table).
 */
let app: HttpApp | undefined;

useSignupProtection(signupProtection);

// Started during init, with AWS calls short enough to answer within the function's timeout;
// the handler awaits the same promise and sees any error.
lambdaPorts(HTTP_CALLS).catch(() => undefined);

const http = apiGatewayHandler(async () => (app ??= createHttpApp((await lambdaPorts(HTTP_CALLS)).http)));

interface ScheduledEvent {
  'detail-type': 'Scheduled Event';
}

function isScheduled(event: unknown): event is ScheduledEvent {
  return (event as Partial<ScheduledEvent> | undefined)?.['detail-type'] === 'Scheduled Event';
}

export const handler = async (event: APIGatewayProxyEventV2 | ScheduledEvent) => {
  if (isScheduled(event)) return { sent: await (await lambdaPorts(HTTP_CALLS)).subscriptions.sendWaitingConfirmations() };
  return http(event);
};
