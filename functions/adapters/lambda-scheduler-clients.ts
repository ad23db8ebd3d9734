import { LambdaClient } from '@aws-sdk/client-lambda';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { clientOptions, type Endpoints } from './aws-clients';

/**
 * Clients only the dispatch and ingest functions use. Kept out of ./clients, which every Lambda
 * entry imports, so api, send and ses-events neither bundle nor load these SDK packages.
 */

/** EventBridge Scheduler, for posts dated in the future (AWS only; locally a timer stands in). */
export function schedulerClient(endpoints: Endpoints = {}): SchedulerClient {
  return new SchedulerClient(clientOptions(undefined, endpoints.region));
}

/** Lambda, for the ingest function to start the dispatcher with an asynchronous invoke. */
export function lambdaClient(endpoints: Endpoints = {}): LambdaClient {
  return new LambdaClient(clientOptions(undefined, endpoints.region));
}
