import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { dynamoClient, secretsClient, sesClient, sqsClient } from '../commons/clients';
import { type IngestResources, readIngestQueueUrl, readIngestResources, readResources, readSecretArn, readSenderConcurrency, readSendQueueUrl, readSettings } from '../commons/config';
import { ConfigError } from '../commons/errors';
import { systemClock } from '../commons/ports';
import { parseSecrets } from '../commons/secrets';
import type { Queue } from '../commons/ports';
import { GitHubContents } from '../github/contents';
import { IssueStore } from '../sending/issues';
import type { DispatchJob } from '../sending/jobs';
import type { Scheduler } from '../sending/schedule';
import { SqsQueue } from '../sending/sqs-queue';
import type { IngestMessage } from '../github/webhook';
import type { IngestWorkerPorts } from '../sending/ingest-worker';
import { buildCorePorts, type CoreInputs, type CorePorts } from './ports';
import { buildSendingPorts, type SendingPorts } from './sending';

/**
 * Ports for the Lambdas: settings from the environment (checked at cold start), clients with
 * the function's role, secrets from Secrets Manager. Built once per container; the promise is
 * started while the module loads, so the work happens in Lambda's init phase.
 */
export type LambdaPorts = CorePorts;

const settings = readSettings();
const resources = readResources();
const dynamo = dynamoClient();
const ses = sesClient();

async function readSecrets() {
  const arn = readSecretArn();
  const result = await secretsClient().send(new GetSecretValueCommand({ SecretId: arn }));
  if (result.SecretString === undefined) throw new ConfigError(`secret ${arn} has no string value; store it as JSON text`);
  return parseSecrets(result.SecretString, `secret ${arn}`);
}

let protection: CoreInputs['protection'];

/**
 * The API entry hands over the signup protection (functions/compose/signup.ts) when it loads:
 * naming that module here would put its ~1 MB disposable-domain list in every bundle. It is
 * read after the secret arrives, so the entry's top level has run by then.
 */
export function useSignupProtection(factory: NonNullable<CoreInputs['protection']>): void {
  protection = factory;
}

async function compose(): Promise<LambdaPorts> {
  const secrets = await readSecrets();
  const core = buildCorePorts({ dynamo, ses, settings, resources, secrets, clock: systemClock, protection });
  // The API function gets INGEST_QUEUE_URL: `POST /hooks/github` puts pushed posts there.
  const ingestQueueUrl = readIngestQueueUrl();
  if (ingestQueueUrl === undefined) return core;
  const ingestQueue = new SqsQueue<IngestMessage>(sqsClient(), ingestQueueUrl);
  return { ...core, http: { ...core.http, github: { webhookSecret: async () => secrets.webhookSecret, ingestQueue } } };
}

let composed: Promise<LambdaPorts> | undefined;

/** The ports; a failed start (say, Secrets Manager unreachable) is retried by the next call. */
export function lambdaPorts(): Promise<LambdaPorts> {
  composed ??= compose().catch((error: unknown) => {
    composed = undefined;
    throw error;
  });
  return composed;
}

// Start during init; the handler awaits the same promise and sees any error.
lambdaPorts().catch(() => undefined);

/**
 * The send, dispatch and ses-events Lambdas' ports. Only the dispatcher continues a dispatch,
 * and it does so by invoking itself asynchronously (it knows its own ARN), replacing the
 * dispatch queue here, which no other function may use.
 */
let sending: Promise<SendingPorts> | undefined;

/** Only the send Lambda may read the SES quota (and needs the rate); the others skip the call. */
export function lambdaSendingPorts(options: { askQuota?: boolean } = {}): Promise<SendingPorts> {
  sending ??= (async () => {
    const concurrency = readSenderConcurrency();
    const sendQueueUrl = readSendQueueUrl();
    const missing = (reason: string): Queue<never> => ({
      send: async () => {
        throw new ConfigError(reason);
      },
    });
    return buildSendingPorts(
      await lambdaPorts(),
      {
        sendQueue: sendQueueUrl ? new SqsQueue(sqsClient(), sendQueueUrl) : missing('SEND_QUEUE_URL must be set for this function (the CDK stack sets it)'),
        dispatchQueue: missing('only the dispatch function continues a dispatch, by invoking itself'),
      },
      { askQuota: options.askQuota ?? false, concurrency },
    );
  })().catch((error: unknown) => {
    sending = undefined;
    throw error;
  });
  return sending;
}

/**
 * The ingest Lambda's ports: GitHub read with the secret's token (none for public blogs),
 * the dispatcher started by an asynchronous invoke, and future posts put on EventBridge
 * Scheduler with a one-time schedule that invokes the dispatcher at the post's date.
 *
 * The invoker and the scheduler come from functions/ingest.ts: they need the Lambda and
 * Scheduler SDK clients, and esbuild hoists an ESM bundle's external imports to the top even
 * from dynamically imported modules, so naming them here would load those clients in every
 * function that imports this module (api, send, ses-events).
 */
export interface IngestAwsPorts {
  /** Starts the dispatcher (the function at `dispatchFunctionArn`) with an asynchronous invoke. */
  dispatchQueue(target: IngestResources): Queue<DispatchJob>;
  /** Schedules a future post's dispatch on EventBridge Scheduler. */
  scheduler(target: IngestResources): Scheduler;
}

let ingest: Promise<IngestWorkerPorts> | undefined;

export function lambdaIngestPorts(aws: IngestAwsPorts): Promise<IngestWorkerPorts> {
  ingest ??= (async () => {
    const target = readIngestResources();
    const core = await lambdaPorts();
    return {
      settings: core.settings,
      issues: new IssueStore(core.dynamo, core.resources),
      dispatchQueue: aws.dispatchQueue(target),
      scheduler: aws.scheduler(target),
      mailer: core.mailer,
      clock: core.clock,
      files: new GitHubContents({ apiUrl: core.settings.githubApiUrl, token: core.secrets.githubToken }),
    };
  })().catch((error: unknown) => {
    ingest = undefined;
    throw error;
  });
  return ingest;
}
