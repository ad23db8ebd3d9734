/**
 * A deployed stack for `pushletter doctor --aws`, on one machine: a small HTTP server that
 * speaks the few CloudFormation, SES (v1 and v2) and SNS actions the doctor uses, reached
 * through the SDK's own `AWS_ENDPOINT_URL_<SERVICE>` settings with fake credentials; dynalite
 * for the deliveries table; and the real ses-events code, fed the bounce SES would publish when
 * the stand-in accepts a message for the mailbox simulator, as the SES events queue hands it over
 * (an SNS envelope in a queue batch).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { sesClient } from '../../functions/adapters/aws-clients';
import type { DynamoSubscriberStore } from '../../functions/adapters/dynamodb/subscriber-store';
import { systemClock } from '../../functions/commons/clock';
import { readSettings } from '../../functions/commons/config';
import { deliveriesTableDefinition } from '../../functions/contract/delivery-tables';
import { subscriberTableDefinition } from '../../functions/contract/subscriber-table';
import {
  handleSesEventBatch,
  type SesEventDependencies,
  type SnsEvent,
} from '../../functions/feedback/ses-notifications';
import { createHttpApp } from '../../functions/http/app';
import { createNodeServer } from '../../functions/http/node-server';
import { buildCoreServices } from '../../functions/wiring/core-services';
import { buildSendingServices } from '../../functions/wiring/sending-services';
import { settingsEnvironment, shellExports } from '../../infra/config';
import { queueBatch } from './ses-event-queue';
import { type RunningDynamo, startDynamo } from './subscribers-harness';

export const REGION = 'eu-west-1';
export const ACCOUNT = '123456789012';
export const STACK = 'Pushletter';
export const CONFIGURATION_SET = 'pushletter-doctor-test';
export const FROM_ADDRESS = 'letters@news.example.org';
export const DOMAIN = 'example.org';
export const MAX_SEND_RATE = 50;
const DELIVERIES_TABLE = 'pushletter-deliveries-doctor';
const SUBSCRIBERS_TABLE = 'pushletter-subscribers-doctor';
const FIXTURES = new URL('../fixtures/ses-events/', import.meta.url);

/** What the stand-in AWS account holds; tests change it to produce each failure. */
export interface AwsState {
  stacks: Map<string, Record<string, string>>;
  /** GetEmailIdentity answers (SES v2 JSON), by identity name. */
  identities: Map<string, Record<string, unknown>>;
  /** The GetAccount answer (SES v2 JSON). */
  account: Record<string, unknown>;
  /** ListSubscriptionsByTopic members of the alarm topic. */
  alarmSubscriptions: { Protocol: string; Endpoint: string; SubscriptionArn: string }[];
  /** Whether SES's bounce of a simulator message reaches ses-events (the configuration set's SNS destination). */
  deliverBounces: boolean;
  /** `service:Action` of every call, in order. */
  calls: string[];
  /** Messages SendEmail accepted: their form fields. */
  sent: URLSearchParams[];
}

export function healthyState(outputs: Record<string, string>): AwsState {
  return {
    stacks: new Map([[STACK, outputs]]),
    identities: new Map([
      [
        DOMAIN,
        {
          IdentityType: 'DOMAIN',
          VerifiedForSendingStatus: true,
          VerificationStatus: 'SUCCESS',
          DkimAttributes: {
            SigningEnabled: true,
            Status: 'SUCCESS',
            Tokens: ['tokenone', 'tokentwo', 'tokenthree'],
            SigningAttributesOrigin: 'AWS_SES',
          },
          MailFromAttributes: {
            MailFromDomain: `mail.${DOMAIN}`,
            MailFromDomainStatus: 'SUCCESS',
            BehaviorOnMxFailure: 'USE_DEFAULT_VALUE',
          },
        },
      ],
    ]),
    account: {
      ProductionAccessEnabled: true,
      SendingEnabled: true,
      EnforcementStatus: 'HEALTHY',
      SendQuota: { Max24HourSend: 50000, MaxSendRate: MAX_SEND_RATE, SentLast24Hours: 12 },
      Details: { MailType: 'MARKETING', ReviewDetails: { Status: 'GRANTED', CaseId: '1234' } },
    },
    alarmSubscriptions: [
      {
        Protocol: 'email',
        Endpoint: 'ops@example.org',
        SubscriptionArn: `arn:aws:sns:${REGION}:${ACCOUNT}:Pushletter-AlarmsTopic:1f2e3d4c`,
      },
    ],
    deliverBounces: true,
    calls: [],
    sent: [],
  };
}

function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** A value as AWS query-protocol XML: objects become elements, arrays `<member>` lists. */
function toXml(value: unknown): string {
  if (Array.isArray(value)) return value.map((item) => `<member>${toXml(item)}</member>`).join('');
  if (value !== null && typeof value === 'object') {
    return Object.entries(value)
      .filter(([, inner]) => inner !== undefined)
      .map(([key, inner]) => `<${key}>${toXml(inner)}</${key}>`)
      .join('');
  }
  return escapeXml(String(value));
}

function queryAnswer(response: ServerResponse, action: string, result: unknown): void {
  response.writeHead(200, { 'content-type': 'text/xml' });
  response.end(
    `<${action}Response><${action}Result>${toXml(result)}</${action}Result><ResponseMetadata><RequestId>${randomBytes(8).toString('hex')}</RequestId></ResponseMetadata></${action}Response>`,
  );
}

function queryError(response: ServerResponse, status: number, code: string, message: string): void {
  response.writeHead(status, { 'content-type': 'text/xml' });
  response.end(
    `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${randomBytes(8).toString('hex')}</RequestId></ErrorResponse>`,
  );
}

function jsonAnswer(response: ServerResponse, status: number, body: unknown, errorType?: string): void {
  response.writeHead(status, {
    'content-type': 'application/json',
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  response.end(JSON.stringify(body));
}

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The bounce SES publishes for a simulator message, with the message's tags, as SNS delivers it. */
function simulatorBounce(sent: URLSearchParams): SnsEvent {
  const template = readFileSync(new URL('bounce-permanent.json', FIXTURES), 'utf8').replaceAll(
    '{{address}}',
    sent.get('Destination.ToAddresses.member.1') ?? '',
  );
  const notification = JSON.parse(template) as { mail: { tags: Record<string, string[]> } };
  const tags: Record<string, string[]> = { 'ses:configuration-set': [sent.get('ConfigurationSetName') ?? ''] };
  for (let index = 1; sent.has(`Tags.member.${index}.Name`); index++)
    tags[sent.get(`Tags.member.${index}.Name`)!] = [sent.get(`Tags.member.${index}.Value`) ?? ''];
  notification.mail.tags = tags;
  const envelope = JSON.parse(readFileSync(new URL('sns-envelope.json', FIXTURES), 'utf8')) as {
    Records: { Sns: { Message: string } }[];
  };
  envelope.Records[0]!.Sns.Message = JSON.stringify(notification);
  return envelope as SnsEvent;
}

export interface AwsStandIn {
  url: string;
  state: AwsState;
  /** Resolves when every bounce handed to ses-events has been handled. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Checks what a real endpoint would before answering: a SigV4 signature whose credential
 * scope names the expected region and the service the action belongs to.
 */
export async function startAwsStandIn(state: AwsState, sesEvents: SesEventDependencies): Promise<AwsStandIn> {
  const pending = new Set<Promise<unknown>>();
  const server = createServer((request, response) => {
    void (async () => {
      const body = await bodyOf(request);
      const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(request.headers.authorization ?? '');
      const url = new URL(request.url ?? '/', 'http://stand-in');
      const rest = url.pathname.startsWith('/v2/email/');
      if (scope === null)
        return rest
          ? jsonAnswer(
              response,
              403,
              { message: 'Missing Authentication Token' },
              'MissingAuthenticationTokenException',
            )
          : queryError(response, 403, 'MissingAuthenticationToken', 'Request is missing Authentication Token');
      const [, region, service] = scope;
      if (region !== REGION)
        return queryError(
          response,
          403,
          'SignatureDoesNotMatch',
          `Credential should be scoped to a valid region, not '${region}'`,
        );

      if (rest) {
        if (service !== 'ses')
          return jsonAnswer(response, 403, { message: `signed for ${service}` }, 'InvalidSignatureException');
        if (url.pathname === '/v2/email/account' && request.method === 'GET') {
          state.calls.push('ses:GetAccount');
          return jsonAnswer(response, 200, state.account);
        }
        const identity = /^\/v2\/email\/identities\/([^/]+)$/.exec(url.pathname);
        if (identity && request.method === 'GET') {
          const name = decodeURIComponent(identity[1]!);
          state.calls.push(`ses:GetEmailIdentity ${name}`);
          const found = state.identities.get(name);
          return found
            ? jsonAnswer(response, 200, found)
            : jsonAnswer(response, 404, { message: `Email identity ${name} does not exist.` }, 'NotFoundException');
        }
        return jsonAnswer(response, 404, { message: 'unknown operation' }, 'UnknownOperationException');
      }

      const form = new URLSearchParams(body);
      const action = form.get('Action') ?? '';
      state.calls.push(`${service}:${action}`);
      if (service === 'cloudformation' && action === 'DescribeStacks') {
        const name = form.get('StackName') ?? '';
        const outputs = state.stacks.get(name);
        if (outputs === undefined)
          return queryError(response, 400, 'ValidationError', `Stack with id ${name} does not exist`);
        return queryAnswer(response, action, {
          Stacks: [
            {
              StackName: name,
              StackId: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${name}/0a1b2c3d`,
              CreationTime: '2026-11-30T10:00:00.000Z',
              StackStatus: 'CREATE_COMPLETE',
              Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
            },
          ],
        });
      }
      if (service === 'sns' && action === 'ListSubscriptionsByTopic') {
        const topicArn = form.get('TopicArn') ?? '';
        return queryAnswer(response, action, {
          Subscriptions: state.alarmSubscriptions.map((subscription) => ({
            ...subscription,
            TopicArn: topicArn,
            Owner: ACCOUNT,
          })),
        });
      }
      if (service === 'ses' && action === 'SendEmail') {
        const source = form.get('Source') ?? '';
        const verified = [...state.identities].some(
          ([name, identity]) =>
            identity.VerifiedForSendingStatus === true &&
            (source === name || source.endsWith(`@${name}`) || source.endsWith(`.${name}`)),
        );
        if (!verified)
          return queryError(
            response,
            400,
            'MessageRejected',
            `Email address is not verified. The following identities failed the check in region ${REGION.toUpperCase()}: ${source}`,
          );
        state.sent.push(form);
        queryAnswer(response, action, { MessageId: `0100018c${randomBytes(12).toString('hex')}-000000` });
        const toSimulator = form.get('Destination.ToAddresses.member.1') === 'bounce@simulator.amazonses.com';
        if (state.deliverBounces && toSimulator) {
          const handled = handleSesEventBatch(sesEvents, queueBatch([simulatorBounce(form)])).finally(() =>
            pending.delete(handled),
          );
          pending.add(handled);
        }
        return;
      }
      queryError(response, 400, 'InvalidAction', `${service} does not know ${action}`);
    })().catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500);
      response.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state,
    settled: async () => {
      await Promise.all([...pending]);
    },
    close: () => closeServer(server),
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

export interface DoctorWorld {
  dynamo: RunningDynamo;
  deliveriesTable: string;
  /** The real API app answering the webhook; `failing` makes its secret unreadable. */
  webhookUrl: string;
  failingWebhookUrl: string;
  unreachableWebhookUrl: string;
  sesEvents: SesEventDependencies;
  subscribers: DynamoSubscriberStore;
  outputs(webhookUrl: string): Record<string, string>;
  close(): Promise<void>;
}

/**
 * dynalite with the deliveries table, the ses-events ports wired as the Lambda wires them
 * (wiring/sending-services.ts), and the API app behind the webhook URLs.
 */
export async function startDoctorWorld(): Promise<DoctorWorld> {
  const dynamo = await startDynamo();
  await dynamo.client.send(new CreateTableCommand({ TableName: DELIVERIES_TABLE, ...deliveriesTableDefinition }));
  await dynamo.client.send(new CreateTableCommand({ TableName: SUBSCRIBERS_TABLE, ...subscriberTableDefinition }));
  const config = {
    siteUrl: 'https://blog.example.org',
    siteTitle: 'Example Letters',
    fromAddress: FROM_ADDRESS,
    fromName: 'Example Letters',
    replyTo: "it's@example.org",
    postalAddress: '1 Example Street',
    repository: 'octocat/blog',
    branch: 'main',
    githubApiUrl: 'https://api.github.com',
    editors: [],
    maxSendRate: MAX_SEND_RATE,
    listName: 'newsletter',
    language: 'en' as const,
    timezone: 'UTC',
    digestDay: 'monday' as const,
    digestHour: 8,
    existingIdentity: false,
    topics: [],
    tracking: 'off' as const,
    opens: false,
    signupEnvironment: {},
  };
  const environment = {
    ...settingsEnvironment(config, { publicUrl: 'https://api.example.org', configurationSet: CONFIGURATION_SET }),
    SUBSCRIBERS_TABLE,
    ISSUES_TABLE: 'pushletter-issues-doctor',
    DELIVERIES_TABLE,
    PUSHLETTER_TOKEN_KEY_SECRET_ARN: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:pushletter-token-key-abc123`,
  };
  const secrets = {
    tokenKey: randomBytes(32).toString('base64'),
    webhookSecret: 'doctor-test-webhook-secret-0123456789',
  };
  const core = buildCoreServices({
    dynamo: dynamo.client,
    // ses-events sends nothing; the client only completes the ports.
    ses: sesClient({ ses: 'http://127.0.0.1:9' }),
    settings: readSettings(environment),
    resources: {
      subscribersTable: environment.SUBSCRIBERS_TABLE,
      issuesTable: environment.ISSUES_TABLE,
      deliveriesTable: DELIVERIES_TABLE,
      countersTable: 'counters',
    },
    secrets,
    clock: systemClock,
  });
  const refuse = { send: async () => Promise.reject(new Error('the doctor must not queue anything')) };
  const { sesEvents } = await buildSendingServices(
    core,
    { sendQueue: refuse, dispatchQueue: refuse },
    { askQuota: false },
  );

  const ingestQueue = { send: async () => Promise.reject(new Error('an unsigned delivery must not be queued')) };
  const healthy = createNodeServer(
    createHttpApp({ ...core.http, github: { webhookSecret: async () => secrets.webhookSecret, ingestQueue } }),
  );
  const failing = createNodeServer(
    createHttpApp({
      ...core.http,
      github: {
        webhookSecret: async () =>
          Promise.reject(new Error('AccessDeniedException: not authorized to perform secretsmanager:GetSecretValue')),
        ingestQueue,
      },
    }),
  );
  const gone = createServer();
  const urls: string[] = [];
  for (const server of [healthy, failing, gone]) {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/github`);
  }
  // Nothing listens there any more: connection refused, like a host that does not answer.
  await closeServer(gone);
  return {
    dynamo,
    deliveriesTable: DELIVERIES_TABLE,
    webhookUrl: urls[0]!,
    failingWebhookUrl: urls[1]!,
    unreachableWebhookUrl: urls[2]!,
    sesEvents,
    subscribers: core.subscribers,
    outputs: (webhookUrl) => ({
      WebhookUrl: webhookUrl,
      FormUrl: webhookUrl.replace('/hooks/github', '/'),
      AlarmTopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:Pushletter-AlarmsTopic`,
      DeliveriesTable: DELIVERIES_TABLE,
      TokenKeySecretArn: environment.PUSHLETTER_TOKEN_KEY_SECRET_ARN,
      CliEnvironment: shellExports(environment),
    }),
    close: async () => {
      await closeServer(healthy);
      await closeServer(failing);
      await dynamo.stop();
    },
  };
}

/**
 * One world and stand-in per test file, the account back to healthy and the SDK pointed at
 * them before each test; the fields are filled once the file's setup has run.
 */
export function useDoctorWorld(): { world: DoctorWorld; aws: AwsStandIn } {
  const running = {} as { world: DoctorWorld; aws: AwsStandIn };
  beforeAll(async () => {
    running.world = await startDoctorWorld();
    running.aws = await startAwsStandIn(
      healthyState(running.world.outputs(running.world.webhookUrl)),
      running.world.sesEvents,
    );
  });
  afterAll(async () => {
    await running.aws?.settled();
    await running.aws?.close();
    await running.world?.close();
  });
  beforeEach(() => {
    Object.assign(running.aws.state, healthyState(running.world.outputs(running.world.webhookUrl)));
    pointSdkAt(running.aws.url, running.world.dynamo.endpoint);
  });
  return running;
}

/** The SDK finds the stand-ins and fake credentials only through its own environment settings. */
export function pointSdkAt(standInUrl: string, dynamoUrl: string): void {
  Object.assign(process.env, {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'AKIADOCTORTEST000000',
    AWS_SECRET_ACCESS_KEY: 'doctor-test-secret-key',
    AWS_ENDPOINT_URL_CLOUDFORMATION: standInUrl,
    AWS_ENDPOINT_URL_SESV2: standInUrl,
    AWS_ENDPOINT_URL_SES: standInUrl,
    AWS_ENDPOINT_URL_SNS: standInUrl,
    AWS_ENDPOINT_URL_DYNAMODB: dynamoUrl,
  });
  isolateFromMachineCredentials();
}

/** No profile files, no instance metadata: only what the test sets is found. */
export function isolateFromMachineCredentials(): void {
  for (const key of [
    'AWS_PROFILE',
    'AWS_DEFAULT_PROFILE',
    'AWS_SESSION_TOKEN',
    'AWS_DEFAULT_REGION',
    'AWS_ENDPOINT_URL',
    'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
    'AWS_CONTAINER_CREDENTIALS_FULL_URI',
    'AWS_WEB_IDENTITY_TOKEN_FILE',
    'PUSHLETTER_TARGET',
  ])
    delete process.env[key];
  process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/pushletter-doctor-test/credentials';
  process.env.AWS_CONFIG_FILE = '/nonexistent/pushletter-doctor-test/config';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
}

export class Collector extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

/** Runs the CLI command in this process, as the other CLI tests do. */
export async function doctor(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { runDoctor } = await import('../../functions/cli/doctor-command');
  const out = new Collector();
  const err = new Collector();
  const code = await runDoctor(args, { out, err });
  return { code, out: out.text, err: err.text };
}
