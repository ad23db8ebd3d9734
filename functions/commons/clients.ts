import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESClient } from '@aws-sdk/client-ses';
import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * AWS SDK clients, built in one place. On AWS (and for the CLI's `--aws`) the SDK's own chains
 * decide region, credentials and endpoints: AWS_REGION (set by Lambda), the default
 * credentials, and `AWS_ENDPOINT_URL_<SERVICE>` when a service is to be reached elsewhere.
 * Locally the same clients point at the stand-ins (dynalite, aws-ses-v2-local) with dummy
 * credentials; only then is a region given, because a local endpoint has none of its own.
 * Clients only one function needs (Lambda, EventBridge Scheduler) live in ./aws-extra, so the
 * other bundles do not load their SDK packages at cold start.
 */
export interface Endpoints {
  dynamodb?: string;
  ses?: string;
}

/** How long one SDK call may take: each attempt's connect and idle limits, and the attempts. */
export interface CallBudget {
  connectionTimeout: number;
  requestTimeout: number;
  maxAttempts: number;
}

/**
 * The pipeline's functions run for 30 s and more: a stuck connection must still not hang
 * one until its Lambda timeout, but a slow answer gets time.
 */
export const PIPELINE_CALLS: CallBudget = { connectionTimeout: 3_000, requestTimeout: 10_000, maxAttempts: 3 };

/**
 * The API function has 10 s (GitHub gives a webhook delivery 10 s too): one call's worst case,
 * (1 s + 2 s) × 2 attempts plus the SDK's backoff, stays near 6 s. DynamoDB answers in
 * milliseconds, so 2 s of silence is a dead connection, not a slow answer.
 */
export const HTTP_CALLS: CallBudget = { connectionTimeout: 1_000, requestTimeout: 2_000, maxAttempts: 2 };

/** The longest one SDK call can take under `budget`, retry backoff included (for tests and docs). */
export function worstCallMs(budget: CallBudget): number {
  // The standard retry strategy waits at most 100 ms × 2^retry (full jitter) before a retry.
  let backoff = 0;
  for (let retry = 0; retry < budget.maxAttempts - 1; retry++) backoff += 100 * 2 ** retry;
  return (budget.connectionTimeout + budget.requestTimeout) * budget.maxAttempts + backoff;
}

/** The region the local stand-ins are addressed in; they accept any. */
const LOCAL_REGION = 'us-east-1';
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Options every client shares: a local endpoint (with its region and credentials) or none, timeouts, retries. */
export function clientOptions(endpoint: string | undefined, budget: CallBudget = PIPELINE_CALLS) {
  return {
    ...(endpoint ? { endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS } : {}),
    requestHandler: { connectionTimeout: budget.connectionTimeout, requestTimeout: budget.requestTimeout },
    maxAttempts: budget.maxAttempts,
  };
}

export function dynamoClient(endpoints: Endpoints = {}, budget?: CallBudget): DynamoDBClient {
  return new DynamoDBClient(clientOptions(endpoints.dynamodb, budget));
}

export function sesClient(endpoints: Endpoints = {}, budget?: CallBudget): SESClient {
  // Throttling is retried by the sender with its own backoff and rate limit, not by the SDK.
  return new SESClient({ ...clientOptions(endpoints.ses, budget), maxAttempts: 1 });
}

export function secretsClient(budget?: CallBudget): SecretsManagerClient {
  return new SecretsManagerClient(clientOptions(undefined, budget));
}

export function sqsClient(budget?: CallBudget): SQSClient {
  return new SQSClient(clientOptions(undefined, budget));
}
