import { lambdaPorts } from '../wiring/lambda-services';
import { apiGatewayHandler } from '../http/api-gateway';
import { createHttpApp } from '../http/app';
import type { HttpApp } from '../http/types';

/** The HTTP API Lambda: signup page, subscribe, confirm, unsubscribe (see functions/http/routes). */
let app: HttpApp | undefined;

export const handler = apiGatewayHandler(async () => (app ??= createHttpApp((await lambdaPorts()).http)));
