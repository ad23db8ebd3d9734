import { HTTP_CALLS } from '../adapters/aws-clients';
import { processEnvironment } from '../commons/config';
import { createLambdaServices, once } from '../wiring/lambda-services';
import { apiGatewayHandler } from '../http/api-gateway';
import { createHttpApp } from '../http/app';
import type { HttpApp } from '../http/types';
import { withLambdaContext } from '../commons/logger';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/** The HTTP API Lambda: signup page, subscribe, confirm, unsubscribe (see functions/http/routes). */
let app: HttpApp | undefined;

// Started during init, with AWS calls short enough to answer within the function's timeout;
// the handler awaits the same promise and sees any error.
const services = once(() => createLambdaServices(processEnvironment(), HTTP_CALLS));
services().catch(() => undefined);

const answer = apiGatewayHandler(async () => (app ??= createHttpApp((await services()).http)));

export const handler = withLambdaContext(async (event: APIGatewayProxyEventV2) => answer(event));
