import { HTTP_CALLS } from './commons/clients';
import { lambdaPorts } from './compose/lambda';
import { apiGatewayHandler } from './http/api-gateway';
import { createHttpApp, type HttpApp } from './http/app';

/** The HTTP API Lambda: signup page, subscribe, confirm, unsubscribe (see functions/http/routes). */
let app: HttpApp | undefined;

// Started during init, with AWS calls short enough to answer within the function's timeout;
// the handler awaits the same promise and sees any error.
lambdaPorts(HTTP_CALLS).catch(() => undefined);

export const handler = apiGatewayHandler(async () => (app ??= createHttpApp((await lambdaPorts(HTTP_CALLS)).http)));
