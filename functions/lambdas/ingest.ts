import { DispatcherInvoker } from '../adapters/lambda-invoker';
import { lambdaClient, schedulerClient } from '../adapters/lambda-scheduler-clients';
import { processEnvironment } from '../commons/config';
import { withLambdaContext } from '../commons/logger';
import { createIngestHandler } from '../publishing/ingest-consumer';
import { EventBridgeScheduler } from '../publishing/schedule';
import { createLambdaIngestServices, once } from '../wiring/lambda-services';

/**
 * The ingest Lambda, fed by the ingest queue the webhook fills: reads each pushed post at its
 * commit from GitHub, renders it once, records the issue, and starts or schedules its send
 * (see functions/publishing/ingest-post.ts). GitHub outages come back through SQS partial batch
 * failures; everything else is settled per message. The Lambda and Scheduler clients are
 * built here, the one function that schedules posts, so no other bundle loads them.
 */
const services = once(() =>
  createLambdaIngestServices(processEnvironment(), {
    dispatchQueue: (target) => new DispatcherInvoker(lambdaClient(), target.dispatchFunctionArn),
    scheduler: (target) =>
      new EventBridgeScheduler(schedulerClient(), {
        targetArn: target.dispatchFunctionArn,
        roleArn: target.schedulerRoleArn,
        groupName: target.scheduleGroup,
      }),
  }),
);

// Started during init; the handler awaits the same promise and sees any error.
services().catch(() => undefined);

export const handler = withLambdaContext(createIngestHandler(services));
