import { DynamoIssueStore } from '../adapters/dynamodb/issue-store';
import { DispatcherInvoker } from '../adapters/lambda-invoker';
import { lambdaClient } from '../adapters/lambda-scheduler-clients';
import { processEnvironment, readDispatchFunctionArn } from '../commons/config';
import { withLambdaContext } from '../commons/logger';
import { type DigestOutcome, runWeeklyDigest } from '../digest/weekly-digest';
import { createLambdaServices, once } from '../wiring/lambda-services';

/**
 * The weekly digest, started by its recurring EventBridge Scheduler schedule at the digest time
 * (the event carries nothing it needs): renders the week's variants, records the digest's issue
 * and starts the dispatcher with an asynchronous invoke, as ingest does for a post. A retry of
 * the schedule's invoke finds the issue and sends nothing again (functions/digest/weekly-digest.ts).
 */
const services = once(async () => {
  const env = processEnvironment();
  const core = await createLambdaServices(env);
  return {
    settings: core.settings,
    issues: new DynamoIssueStore(core.dynamo, core.resources),
    subscribers: core.subscribers,
    dispatchQueue: new DispatcherInvoker(lambdaClient(), readDispatchFunctionArn(env)),
    clock: core.clock,
  };
});
// Started during init; the handler awaits the same promise and sees any error.
services().catch(() => undefined);

export const handler = withLambdaContext(async (): Promise<DigestOutcome> => runWeeklyDigest(await services()));
