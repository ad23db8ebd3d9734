import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  type CallBudget,
  dynamoClient,
  PIPELINE_CALLS,
  secretsClient,
  sesClient,
  sqsClient,
} from '../adapters/aws-clients';
import { DynamoIssueStore } from '../adapters/dynamodb/issue-store';
import { DynamoWelcomeStore } from '../adapters/dynamodb/welcome-store';
import { GitHubContents } from '../adapters/github-contents';
import { SesMailer } from '../adapters/ses-mailer';
import { SqsQueue } from '../adapters/sqs-queue';
import { systemClock } from '../commons/clock';
import {
  type Env,
  type IngestResources,
  type Resources,
  readDeployedResources,
  readIngestQueueUrl,
  readIngestResources,
  readSecretArns,
  readSenderConcurrency,
  readSendQueueUrl,
  readSettings,
  requiredSecretArn,
  type SecretArns,
  type Settings,
} from '../commons/config';
import { ConfigError } from '../commons/errors';
import type { Queue } from '../commons/queue';
import { CachedSecret, checkTokenKey, parseApiSecret, parseGitHubTokenSecret } from '../commons/secrets';
import { ENV } from '../contract/env';
import type { DispatchJob, IngestMessage } from '../contract/messages';
import type { IngestWorkerDependencies } from '../publishing/ingest-consumer';
import type { Scheduler } from '../publishing/schedule';
import { deriveKeys } from '../subscribers/keys';
import { buildCoreServices, type CoreInputs, type CoreServices } from './core-services';
import { buildSendingServices, type SendingServices } from './sending-services';

/**
 * Services for the Lambdas (and the CLI's `--aws`): settings from the environment given
 * (checked when the services are made), clients with the function's role in the function's
 * region, and the secrets this function is granted, each from its own Secrets Manager secret.
 * Nothing here runs on import and nothing is kept between calls: each Lambda entry makes its
 * services once per container (`once`), starting during init so the work falls in Lambda's init
 * phase, and every caller passes its own options.
 */
export type LambdaServices = CoreServices;

/** Where a function's settings, resources and secrets are named (the process environment on AWS). */
interface LambdaEnvironment {
  settings: Settings;
  resources: Resources;
  secretArns: SecretArns;
}

function readLambdaEnvironment(env: Env): LambdaEnvironment {
  return { settings: readSettings(env), resources: readDeployedResources(env), secretArns: readSecretArns(env) };
}

async function secretText(
  client: SecretsManagerClient,
  arns: SecretArns,
  which: keyof SecretArns,
): Promise<{ text: string; source: string }> {
  const arn = requiredSecretArn(arns, which);
  const result = await client.send(new GetSecretValueCommand({ SecretId: arn }));
  if (result.SecretString === undefined) throw new ConfigError(`secret ${arn} has no string value; store it as text`);
  return { text: result.SecretString, source: `secret ${arn}` };
}

/**
 * The services every function shares. `budget` is how long one AWS call may take: the API
 * function passes HTTP_CALLS to answer within its timeout. The API entry also passes the
 * signup protection (wiring/signup.ts): naming that module here would put its ~1 MB
 * disposable-domain list in every bundle.
 */
export async function createLambdaServices(
  env: Env,
  budget: CallBudget = PIPELINE_CALLS,
  options: { protection?: CoreInputs['protection'] } = {},
): Promise<LambdaServices> {
  const { settings, resources, secretArns } = readLambdaEnvironment(env);
  const secrets = secretsClient(budget);
  // The token key never changes while links in delivered emails must work: read once.
  const tokenKey = await secretText(secrets, secretArns, 'tokenKey').then(({ text, source }) =>
    checkTokenKey(text.trim(), source),
  );
  // Only the API function gets INGEST_QUEUE_URL (`POST /hooks/github` puts pushed posts there)
  // and its own secret: re-read every few minutes, so a webhook secret changed in Secrets Manager
  // (and in GitHub) is used without a redeploy. Read now, so a bad secret fails the start.
  const ingestQueueUrl = readIngestQueueUrl(env);
  const apiSecret =
    ingestQueueUrl === undefined
      ? undefined
      : new CachedSecret(async () => {
          const { text, source } = await secretText(secrets, secretArns, 'api');
          return parseApiSecret(text, source);
        });
  // The Turnstile secret key, when the editor put one beside webhookSecret.
  const captchaSecret = (await apiSecret?.get())?.captchaSecret;
  const core = buildCoreServices({
    dynamo: dynamoClient({}, budget),
    ses: sesClient({}, budget),
    settings,
    resources,
    secrets: { tokenKey, ...(captchaSecret ? { captchaSecret } : {}) },
    clock: systemClock,
    protection: options.protection,
  });
  if (ingestQueueUrl === undefined || apiSecret === undefined) return core;
  const ingestQueue = new SqsQueue<IngestMessage>(sqsClient(budget), ingestQueueUrl);
  return {
    ...core,
    http: { ...core.http, github: { webhookSecret: async () => (await apiSecret.get()).webhookSecret, ingestQueue } },
  };
}

/**
 * The send, dispatch and ses-events Lambdas' services. Only the dispatcher continues a dispatch,
 * and it does so by invoking itself asynchronously (it knows its own ARN), replacing the
 * dispatch queue here, which no other function may use. Only the send Lambda may read the SES
 * quota (and needs the rate); the others skip the call.
 */
export async function createLambdaSendingServices(
  env: Env,
  options: { askQuota?: boolean } = {},
): Promise<SendingServices> {
  const concurrency = readSenderConcurrency(env);
  const sendQueueUrl = readSendQueueUrl(env);
  const missing = (reason: string): Queue<never> => ({
    send: async () => {
      throw new ConfigError(reason);
    },
  });
  const core = await createLambdaServices(env);
  return buildSendingServices(
    core,
    {
      sendQueue: sendQueueUrl
        ? new SqsQueue(sqsClient(), sendQueueUrl)
        : missing(`${ENV.sendQueueUrl} must be set for this function (the CDK stack sets it)`),
      dispatchQueue: missing('only the dispatch function continues a dispatch, by invoking itself'),
    },
    // The stack's configuration set publishes Send events (infra/constructs/ses.ts).
    {
      askQuota: options.askQuota ?? false,
      concurrency,
      sendEvents: core.settings.configurationSet === undefined ? undefined : {},
    },
  );
}

/**
 * The ingest Lambda's services: GitHub read with the secret's token (none for public blogs),
 * the dispatcher started by an asynchronous invoke, and future posts put on EventBridge
 * Scheduler with a one-time schedule that invokes the dispatcher at the post's date.
 *
 * The invoker and the scheduler come from functions/lambdas/ingest.ts: they need the Lambda and
 * Scheduler SDK clients, and esbuild hoists an ESM bundle's external imports to the top even
 * from dynamically imported modules, so naming them here would load those clients in every
 * function that imports this module (api, send, ses-events).
 */
export interface IngestAwsServices {
  /** Starts the dispatcher (the function at `dispatchFunctionArn`) with an asynchronous invoke. */
  dispatchQueue(target: IngestResources): Queue<DispatchJob>;
  /** Schedules a future post's dispatch on EventBridge Scheduler. */
  scheduler(target: IngestResources): Scheduler;
}

/**
 * Ingest reads no subscriber and signs no token: it builds its services from the issues table,
 * SES for previews, and the GitHub token secret; the token key only with tracking `aggregate`,
 * to derive the key that signs the post's redirect links. The GitHub token is re-read
 * every few minutes, and at once when GitHub refuses it (adapters/github-contents.ts).
 */
export async function createLambdaIngestServices(env: Env, aws: IngestAwsServices): Promise<IngestWorkerDependencies> {
  const { settings, resources, secretArns } = readLambdaEnvironment(env);
  const target = readIngestResources(env);
  const secrets = secretsClient();
  const githubToken = new CachedSecret(async () => {
    const { text, source } = await secretText(secrets, secretArns, 'githubToken');
    return parseGitHubTokenSecret(text, source);
  });
  await githubToken.get();
  // With tracking `aggregate` the post's links are signed here; the stack then grants the token key.
  const linkKey =
    settings.tracking === 'aggregate'
      ? await secretText(secrets, secretArns, 'tokenKey').then(
          ({ text, source }) => deriveKeys(Buffer.from(checkTokenKey(text.trim(), source), 'base64')).linkKey,
        )
      : undefined;
  const dynamo = dynamoClient();
  return {
    settings,
    ...(linkKey === undefined ? {} : { linkKey }),
    issues: new DynamoIssueStore(dynamo, resources),
    welcomes: new DynamoWelcomeStore(dynamo, resources),
    dispatchQueue: aws.dispatchQueue(target),
    scheduler: aws.scheduler(target),
    mailer: new SesMailer(sesClient(), settings.configurationSet),
    clock: systemClock,
    files: new GitHubContents({ apiUrl: settings.githubApiUrl, token: githubToken }),
  };
}

/**
 * A container's one set of services: made on the first call, shared by later ones, made again
 * after a failed start (say, Secrets Manager unreachable) so the next invocation retries.
 */
export function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    made ??= make().catch((error: unknown) => {
      made = undefined;
      throw error;
    });
    return made;
  };
}
