import { LambdaClient } from '@aws-sdk/client-lambda';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { clientOptions } from './clients';

/**
 * Clients only the dispatch and ingest functions use. Kept out of ./clients, which every Lambda
 * entry imports, so api, send and ses-events neither bundle nor load these SDK packages. Like
 * those, they take region and endpoint from the SDK's own chain (AWS_REGION,
 * AWS_ENDPOINT_URL_SCHEDULER, AWS_ENDPOINT_URL_LAMBDA).
 */

/** EventBridge Scheduler, for posts dated in the future (AWS only; locally a timer stands in). */
export function schedulerClient(): SchedulerClient {
  return new SchedulerClient(clientOptions(undefined));
}

/** Lambda, for the ingest function to start the dispatcher with an asynchronous invoke. */
export function lambdaClient(): LambdaClient {
  return new LambdaClient(clientOptions(undefined));
}
