import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESClient } from '@aws-sdk/client-ses';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * AWS SDK clients, built in one place. On AWS they use the Lambda's role and region; locally
 * the same clients point at the stand-ins (dynalite, aws-ses-v2-local) with dummy credentials.
 */
export interface Endpoints {
  dynamodb?: string;
  ses?: string;
  region?: string;
}

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

function common(endpoint: string | undefined, region: string | undefined) {
  return {
    region: region ?? 'us-east-1',
    ...(endpoint ? { endpoint, credentials: LOCAL_CREDENTIALS } : {}),
    // A stand-in or a stuck connection must not hang a handler until the Lambda times out.
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000 },
    maxAttempts: 3,
  };
}

export function dynamoClient(endpoints: Endpoints = {}): DynamoDBClient {
  return new DynamoDBClient(common(endpoints.dynamodb, endpoints.region));
}

export function sesClient(endpoints: Endpoints = {}): SESClient {
  // Throttling is retried by the sender with its own backoff and rate limit, not by the SDK.
  return new SESClient({ ...common(endpoints.ses, endpoints.region), maxAttempts: 1 });
}

export function secretsClient(endpoints: Endpoints = {}): SecretsManagerClient {
  return new SecretsManagerClient(common(undefined, endpoints.region));
}

export function sqsClient(endpoints: Endpoints = {}): SQSClient {
  return new SQSClient(common(undefined, endpoints.region));
}

/** EventBridge Scheduler, for posts dated in the future (AWS only; locally a timer stands in). */
export function schedulerClient(endpoints: Endpoints = {}): SchedulerClient {
  return new SchedulerClient(common(undefined, endpoints.region));
}

/** Lambda, for the ingest function to start the dispatcher with an asynchronous invoke. */
export function lambdaClient(endpoints: Endpoints = {}): LambdaClient {
  return new LambdaClient(common(undefined, endpoints.region));
}
