import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type CallBudget, PIPELINE_CALLS, dynamoClient, secretsClient, sesClient, sqsClient } from '../commons/clients';
import { type IngestResources, type SecretArns, readIngestQueueUrl, readDeployedResources, readIngestResources, readSecretArns, readSenderConcurrency, readSendQueueUrl, readSettings, requiredSecretArn } from '../commons/config';
import { ConfigError } from '../commons/errors';
import { systemClock } from '../commons/ports';
import { CachedSecret, checkTokenKey, parseApiSecret, parseGitHubTokenSecret } from '../commons/secrets';
import type { Queue } from '../commons/ports';
import { GitHubContents } from '../github/contents';
import { SesMailer } from '../mail/ses-mailer';
import { IssueStore } from '../sending/issues';
import type { DispatchJob } from '../sending/jobs';
import type { Scheduler } from '../sending/schedule';
import { SqsQueue } from '../sending/sqs-queue';
import type { IngestMessage } from '../github/webhook';
import type { IngestWorkerPorts } from '../sending/ingest-worker';
import { buildCorePorts, type CoreInputs, type CorePorts } from './ports';
import { buildSendingPorts, type SendingPorts } from './sending';

/**
 * Ports for the Lambdas (and the CLI's `--aws`): settings from the environment (checked at cold
 * start), clients with the function's role in the function's region, and the secrets this
 * function is granted, each from its own Secrets Manager secret. Built once per container; each
 * entry starts the build while its module loads, so the work happens in Lambda's init phase.
 */
export type LambdaPorts = CorePorts;

const settings = readSettings();
const resources = readDeployedResources();
const secretArns: SecretArns = readSecretArns();

async function secretText(client: SecretsManagerClient, which: keyof SecretArns): Promise<{ text: string; source: string }> {
  const arn = requiredSecretArn(secretArns, which);
  const result = await client.send(new GetSecretValueCommand({ SecretId: arn }));
  if (result.SecretString === undefined) throw new ConfigError(`secret ${arn} has no string value; store it as text`);
  return { text: result.SecretString, source: `secret ${arn}` };
}

let protection: CoreInputs['protection'];

/**
 * The API entry hands over the signup protection (functions/compose/signup.ts) when it loads:
 * naming that module here would put its ~1 MB disposable-domain list in every bundle. It is
 * read after the secrets arrive, so the entry's top level has run by then.
 */
export function useSignupProtection(factory: NonNullable<CoreInputs['protection']>): void {
  protection = factory;
}

async function compose(budget: CallBudget): Promise<LambdaPorts> {
  const secrets = secretsClient(budget);
  // The token key never changes while links in delivered emails must work: read once.
  const tokenKey = await secretText(secrets, 'tokenKey').then(({ text, source }) => checkTokenKey(text.trim(), source));
  // Only the API function gets INGEST_QUEUE_URL (`POST /hooks/github` puts pushed posts there)
  // and its own secret: re-read every few minutes, so a webhook secret changed in Secrets Manager
  // (and in GitHub) is used without a redeploy. Read now, so a bad secret fails the start.
  const ingestQueueUrl = readIngestQueueUrl();
  const apiSecret =
    ingestQueueUrl === undefined
      ? undefined
      : new CachedSecret(async () => {
          const { text, source } = await secretText(secrets, 'api');
          return parseApiSecret(text, source);
        });
  // The Turnstile secret key, when the editor put one beside webhookSecret.
  const captchaSecret = (await apiSecret?.get())?.captchaSecret;
  const core = buildCorePorts({
    dynamo: dynamoClient({}, budget),
    ses: sesClient({}, budget),
    settings,
    resources,
    secrets: { tokenKey, ...(captchaSecret ? { captchaSecret } : {}) },
    clock: systemClock,
    protection,
  });
  if (ingestQueueUrl === undefined || apiSecret === undefined) return core;
  const ingestQueue = new SqsQueue<IngestMessage>(sqsClient(budget), ingestQueueUrl);
  return { ...core, http: { ...core.http, github: { webhookSecret: async () => (await apiSecret.get()).webhookSecret, ingestQueue } } };
}

let composed: Promise<LambdaPorts> | undefined;

/**
 * The ports; a failed start (say, Secrets Manager unreachable) is retried by the next call.
 * The first call's `budget` (how long one AWS call may take) holds for the container: the API
 * function passes HTTP_CALLS to answer within its timeout.
 */
export function lambdaPorts(budget: CallBudget = PIPELINE_CALLS): Promise<LambdaPorts> {
  composed ??= compose(budget).catch((error: unknown) => {
    composed = undefined;
    throw error;
  });
  return composed;
}

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
    const core = await lambdaPorts();
    return buildSendingPorts(
      core,
      {
        sendQueue: sendQueueUrl ? new SqsQueue(sqsClient(), sendQueueUrl) : missing('SEND_QUEUE_URL must be set for this function (the CDK stack sets it)'),
        dispatchQueue: missing('only the dispatch function continues a dispatch, by invoking itself'),
      },
      // The stack's configuration set publishes Send events (infra/constructs/ses.ts).
      { askQuota: options.askQuota ?? false, concurrency, sendEvents: core.settings.configurationSet === undefined ? undefined : {} },
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

/**
 * Ingest reads no subscriber and signs no token: it builds its ports without the token key,
 * from the issues table, SES for previews, and the GitHub token secret. The token is re-read
 * every few minutes, and at once when GitHub refuses it (functions/github/contents.ts).
 */
export function lambdaIngestPorts(aws: IngestAwsPorts): Promise<IngestWorkerPorts> {
  ingest ??= (async () => {
    const target = readIngestResources();
    const secrets = secretsClient();
    const githubToken = new CachedSecret(async () => {
      const { text, source } = await secretText(secrets, 'githubToken');
      return parseGitHubTokenSecret(text, source);
    });
    await githubToken.get();
    return {
      settings,
      issues: new IssueStore(dynamoClient(), resources),
      dispatchQueue: aws.dispatchQueue(target),
      scheduler: aws.scheduler(target),
      mailer: new SesMailer(sesClient(), settings.configurationSet),
      clock: systemClock,
      files: new GitHubContents({ apiUrl: settings.githubApiUrl, token: githubToken }),
    };
  })().catch((error: unknown) => {
    ingest = undefined;
    throw error;
  });
  return ingest;
}
