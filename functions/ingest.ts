import { lambdaClient, schedulerClient } from './commons/aws-extra';
import { lambdaIngestPorts } from './compose/lambda';
import { DispatcherInvoker } from './sending/dispatch-invoker';
import { createIngestHandler } from './sending/ingest-worker';
import { EventBridgeScheduler } from './sending/schedule';

/**
 * The ingest Lambda, fed by the ingest queue the webhook fills: reads each pushed post at its
 * commit from GitHub, renders it once, records the issue, and starts or schedules its send
 * (see functions/sending/ingest.ts). GitHub outages come back through SQS partial batch
 * failures; everything else is settled per message. The Lambda and Scheduler clients are
 * built here, the one function that schedules posts, so no other bundle loads them.
 */
const ports = () =>
  lambdaIngestPorts({
    dispatchQueue: (target) => new DispatcherInvoker(lambdaClient(), target.dispatchFunctionArn),
    scheduler: (target) =>
      new EventBridgeScheduler(schedulerClient(), {
        targetArn: target.dispatchFunctionArn,
        roleArn: target.schedulerRoleArn,
        groupName: target.scheduleGroup,
      }),
  });

// Started during init; the handler awaits the same promise and sees any error.
ports().catch(() => undefined);

export const handler = createIngestHandler(ports);
