import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESClient } from '@aws-sdk/client-ses';
import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * AWS SDK clients, built in one place. On AWS they use the Lambda's role and region; locally
 * the same clients point at the stand-ins (dynalite, aws-ses-v2-local) with dummy credentials.
 * Clients only one function needs (Lambda, EventBridge Scheduler) live in ./aws-extra, so the
 * other bundles do not load their SDK packages at cold start.
 */
export interface Endpoints {
  dynamodb?: string;
  ses?: string;
  region?: string;
}

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Options every client shares: region, local endpoint and credentials, timeouts, retries. */
export function clientOptions(endpoint: string | undefined, region: string | undefined) {
  return {
    region: region ?? 'us-east-1',
    ...(endpoint ? { endpoint, credentials: LOCAL_CREDENTIALS } : {}),
    // A stand-in or a stuck connection must not hang a handler until the Lambda times out.
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000 },
    maxAttempts: 3,
  };
}

export function dynamoClient(endpoints: Endpoints = {}): DynamoDBClient {
  return new DynamoDBClient(clientOptions(endpoints.dynamodb, endpoints.region));
}

export function sesClient(endpoints: Endpoints = {}): SESClient {
  // Throttling is retried by the sender with its own backoff and rate limit, not by the SDK.
  return new SESClient({ ...clientOptions(endpoints.ses, endpoints.region), maxAttempts: 1 });
}

export function secretsClient(endpoints: Endpoints = {}): SecretsManagerClient {
  return new SecretsManagerClient(clientOptions(undefined, endpoints.region));
}

export function sqsClient(endpoints: Endpoints = {}): SQSClient {
  return new SQSClient(clientOptions(undefined, endpoints.region));
}
