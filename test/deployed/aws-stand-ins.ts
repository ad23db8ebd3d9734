/**
 * Local stand-ins for the AWS endpoints the functions call, checking what AWS would check
 * before answering: the SigV4 credential scope (region and service), which role the access
 * key belongs to, and whether that role's statements in the template allow the action on the
 * resource ARN. Allowed DynamoDB and SES calls go on to dynalite and aws-ses-v2-local; SQS,
 * Secrets Manager, Lambda Invoke and Scheduler are answered here and recorded.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AuthorizationRequest, isAllowed } from './iam';
import { ACCOUNT, type DeployedFunction, type Deployment, PARTITION, REGION } from './template';

/** The SDK's own endpoint settings, one per service the functions call, and the service name each signs with. */
const SERVICES = {
  dynamodb: { variable: 'AWS_ENDPOINT_URL_DYNAMODB', signingName: 'dynamodb' },
  ses: { variable: 'AWS_ENDPOINT_URL_SES', signingName: 'ses' },
  sqs: { variable: 'AWS_ENDPOINT_URL_SQS', signingName: 'sqs' },
  secretsmanager: { variable: 'AWS_ENDPOINT_URL_SECRETS_MANAGER', signingName: 'secretsmanager' },
  lambda: { variable: 'AWS_ENDPOINT_URL_LAMBDA', signingName: 'lambda' },
  scheduler: { variable: 'AWS_ENDPOINT_URL_SCHEDULER', signingName: 'scheduler' },
} as const;
type Service = keyof typeof SERVICES;

export interface Caller {
  fn: DeployedFunction;
  accessKeyId: string;
  sessionToken: string;
}

export interface SentEmail {
  caller: string;
  from: string;
  destinations: string[];
  configurationSet?: string;
  tags: Record<string, string>;
}

interface Handled {
  status: number;
  headers?: Record<string, string>;
  body: string | Buffer;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function arnOfQueueUrl(queueUrl: string): string {
  const [, account, name] = new URL(queueUrl).pathname.split('/');
  return `arn:${PARTITION}:sqs:${REGION}:${account}:${name}`;
}

function md5(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** `AWS4-HMAC-SHA256 Credential=AKID/20261203/eu-west-1/dynamodb/aws4_request, SignedHeaders=…, Signature=…` */
function parseAuthorization(header: string | undefined): {
  accessKeyId: string;
  region: string;
  service: string;
  signedHeaders: string[];
} {
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=[0-9a-f]{64}$/.exec(
      header ?? '',
    );
  if (!match)
    throw new Refusal(
      403,
      'MissingAuthenticationToken',
      `the request is not signed with SigV4 (Authorization: ${header ?? 'none'})`,
    );
  return { accessKeyId: match[1]!, region: match[3]!, service: match[4]!, signedHeaders: match[5]!.split(';') };
}

export class AwsStandIns {
  /** Every check a real endpoint would have failed, as a sentence naming the function. */
  readonly refusals: string[] = [];
  readonly queued: { caller: string; queueArn: string; body: string }[] = [];
  readonly invocations: { caller: string; functionArn: string; invocationType: string; payload: string }[] = [];
  readonly schedules: { caller: string; arn: string; request: Record<string, any> }[] = [];
  readonly emails: SentEmail[] = [];
  private readonly secrets = new Map<string, string>();
  private readonly callers = new Map<string, Caller>();
  private readonly servers: Server[] = [];
  private readonly urls: Partial<Record<Service, string>> = {};

  private constructor(
    private deployment: Deployment,
    private readonly backends: { dynamodb: string; ses: string },
  ) {}

  /** Starts one endpoint per service on a free loopback port. */
  static async start(backends: { dynamodb: string; ses: string }): Promise<AwsStandIns> {
    const standIns = new AwsStandIns(undefined as unknown as Deployment, backends);
    for (const service of Object.keys(SERVICES) as Service[]) {
      const server = createServer((request, response) => void standIns.serve(service, request, response));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
      standIns.servers.push(server);
      standIns.urls[service] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }
    return standIns;
  }

  /** Where SQS queue URLs must point (the SDK sends to a queue URL's host). */
  get sqsUrl(): string {
    return this.urls.sqs!;
  }

  /** The deployment whose roles, resources and secrets the endpoints check against. */
  use(deployment: Deployment, secretValues: Map<string, string>): void {
    this.deployment = deployment;
    this.secrets.clear();
    for (const [arn, value] of secretValues) this.secrets.set(arn, value);
    this.callers.clear();
  }

  /** Credentials for a function's role, as Lambda hands them to its process. */
  credentialsFor(fn: DeployedFunction): Caller {
    const accessKeyId = `ASIA${createHash('sha256').update(fn.roleArn).digest('hex').slice(0, 16).toUpperCase()}`;
    const caller = { fn, accessKeyId, sessionToken: `session-of-${fn.entry}` };
    this.callers.set(accessKeyId, caller);
    return caller;
  }

  /** `AWS_ENDPOINT_URL_<SERVICE>` for every service, the only way the functions are pointed here. */
  endpointEnvironment(): Record<string, string> {
    return Object.fromEntries(
      (Object.keys(SERVICES) as Service[]).map((service) => [SERVICES[service].variable, this.urls[service]!]),
    );
  }

  putSecret(arn: string, value: string): void {
    this.secrets.set(arn, value);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      ),
    );
  }

  private async serve(service: Service, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    let handled: Handled;
    try {
      const caller = this.authenticate(service, request);
      handled = await this.handle(service, caller, request, body);
    } catch (error) {
      if (!(error instanceof Refusal)) {
        this.refusals.push(`stand-in for ${service} failed: ${(error as Error).stack}`);
        handled = { status: 500, body: JSON.stringify({ message: String(error) }) };
      } else {
        handled = this.errorResponse(service, error);
      }
    }
    response.writeHead(handled.status, { 'x-amzn-requestid': randomUUID(), ...handled.headers });
    response.end(handled.body);
  }

  private authenticate(service: Service, request: IncomingMessage): Caller {
    const scope = parseAuthorization(request.headers.authorization);
    const caller = this.callers.get(scope.accessKeyId);
    if (!caller)
      throw new Refusal(
        403,
        'UnrecognizedClientException',
        `the access key ${scope.accessKeyId} belongs to no function of the stack`,
      );
    const who = `function ${caller.fn.entry} (${caller.fn.name})`;
    if (request.headers['x-amz-security-token'] !== caller.sessionToken) {
      this.refusals.push(`${who}: a ${service} request without the session token Lambda gave the function`);
      throw new Refusal(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    }
    if (scope.region !== REGION) {
      this.refusals.push(
        `${who}: a ${service} request signed for region ${scope.region}, but the function runs in ${REGION} (its tables, queues and grants are there)`,
      );
      throw new Refusal(
        400,
        'InvalidSignatureException',
        `Credential should be scoped to a valid region, not '${scope.region}'.`,
      );
    }
    if (scope.service !== SERVICES[service].signingName) {
      this.refusals.push(`${who}: a request to the ${service} endpoint signed for service ${scope.service}`);
      throw new Refusal(
        400,
        'InvalidSignatureException',
        `Credential should be scoped to correct service: '${SERVICES[service].signingName}'.`,
      );
    }
    if (!scope.signedHeaders.includes('host'))
      throw new Refusal(403, 'InvalidSignatureException', 'the Host header must be signed');
    return caller;
  }

  /** Refuses the call, naming function, action and resource, unless the role allows every part of it. */
  private authorize(caller: Caller, requests: AuthorizationRequest[]): void {
    for (const request of requests) {
      if (isAllowed(caller.fn.statements, request)) continue;
      const context =
        request.context && Object.keys(request.context).length > 0 ? ` with ${JSON.stringify(request.context)}` : '';
      const message = `function ${caller.fn.entry} (${caller.fn.name}) is not allowed ${request.action} on ${request.resource}${context}: no statement of its role in the template grants it`;
      this.refusals.push(message);
      throw new Refusal(
        403,
        'AccessDeniedException',
        `User: arn:aws:sts::${ACCOUNT}:assumed-role/${caller.fn.roleArn.split('/').pop()}/${caller.fn.name} is not authorized to perform: ${request.action} on resource: ${request.resource} because no identity-based policy allows the ${request.action} action`,
      );
    }
  }

  private async handle(service: Service, caller: Caller, request: IncomingMessage, body: Buffer): Promise<Handled> {
    switch (service) {
      case 'dynamodb':
        return this.dynamodb(caller, request, body);
      case 'ses':
        return this.ses(caller, request, body);
      case 'sqs':
        return this.sqs(caller, request, body);
      case 'secretsmanager':
        return this.secretsManager(caller, request, body);
      case 'lambda':
        return this.lambda(caller, request, body);
      case 'scheduler':
        return this.scheduler(caller, request, body);
    }
  }

  private errorResponse(service: Service, error: Refusal): Handled {
    if (service === 'ses') {
      const type = error.status >= 500 ? 'Receiver' : 'Sender';
      const code = error.code === 'AccessDeniedException' ? 'AccessDenied' : error.code;
      return {
        status: error.status,
        headers: { 'content-type': 'text/xml' },
        body: `<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>${type}</Type><Code>${code}</Code><Message>${error.message.replace(/[<&]/g, ' ')}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
      };
    }
    if (service === 'lambda' || service === 'scheduler') {
      return {
        status: error.status,
        headers: { 'content-type': 'application/json', 'x-amzn-errortype': error.code },
        body: JSON.stringify({ Message: error.message, message: error.message }),
      };
    }
    return {
      status: error.status,
      headers: { 'content-type': 'application/x-amz-json-1.0' },
      body: JSON.stringify({ __type: `com.amazonaws.${service}#${error.code}`, message: error.message }),
    };
  }

  private tableArn(name: string): string {
    return name.startsWith('arn:') ? name : `arn:${PARTITION}:dynamodb:${REGION}:${ACCOUNT}:table/${name}`;
  }

  private async dynamodb(caller: Caller, request: IncomingMessage, body: Buffer): Promise<Handled> {
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = target.split('.')[1] ?? '';
    const input = JSON.parse(body.toString('utf8') || '{}') as Record<string, any>;
    const action = `dynamodb:${operation}`;
    const tables = new Set<string>();
    if (typeof input.TableName === 'string')
      tables.add(
        input.IndexName ? `${this.tableArn(input.TableName)}/index/${input.IndexName}` : this.tableArn(input.TableName),
      );
    for (const name of Object.keys(input.RequestItems ?? {})) tables.add(this.tableArn(name));
    for (const item of input.TransactItems ?? []) {
      for (const part of Object.values(item) as { TableName?: string }[])
        if (part?.TableName) tables.add(this.tableArn(part.TableName));
    }
    const resources = tables.size > 0 ? [...tables] : ['*'];
    this.authorize(
      caller,
      resources.map((resource) => ({ action, resource })),
    );
    return this.forward(this.backends.dynamodb, request, body);
  }

  /** SES v1 (query protocol): the identity that covers the sender, and the configuration set. */
  private async ses(caller: Caller, request: IncomingMessage, body: Buffer): Promise<Handled> {
    const form = new URLSearchParams(body.toString('utf8'));
    const operation = form.get('Action') ?? '';
    const action = `ses:${operation}`;
    if (operation === 'GetSendQuota') {
      this.authorize(caller, [{ action, resource: '*' }]);
      // aws-ses-v2-local never answers it; SES's sandbox quota stands in.
      return {
        status: 200,
        headers: { 'content-type': 'text/xml' },
        body: `<GetSendQuotaResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><GetSendQuotaResult><Max24HourSend>200.0</Max24HourSend><MaxSendRate>14.0</MaxSendRate><SentLast24Hours>0.0</SentLast24Hours></GetSendQuotaResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></GetSendQuotaResponse>`,
      };
    }
    if (operation !== 'SendRawEmail' && operation !== 'SendEmail')
      throw new Refusal(400, 'InvalidAction', `the SES stand-in does not know ${operation}`);
    const raw = Buffer.from(form.get('RawMessage.Data') ?? '', 'base64').toString('utf8');
    const fromHeader = /^From:\s*(.+(?:\r?\n[ \t].+)*)/im.exec(raw.split(/\r?\n\r?\n/)[0] ?? '')?.[1] ?? '';
    const source = form.get('Source') ?? fromHeader;
    const from = (/<([^>]+)>/.exec(source)?.[1] ?? source).trim().toLowerCase();
    const destinations = [...form.entries()]
      .filter(([key]) => key.startsWith('Destinations.member.') || key.startsWith('Destination.ToAddresses.member.'))
      .map(([, value]) => value);
    const configurationSet = form.get('ConfigurationSetName') ?? undefined;
    const identity = this.identityFor(from);
    if (identity === undefined) {
      this.refusals.push(
        `function ${caller.fn.entry} (${caller.fn.name}) sends from ${from}, which no SES identity of the stack covers`,
      );
      throw new Refusal(
        400,
        'MessageRejected',
        `Email address is not verified. The following identities failed the check in region ${REGION.toUpperCase()}: ${from}`,
      );
    }
    const context = { 'ses:FromAddress': from, 'ses:Recipients': destinations, 'ses:ApiVersion': '1' };
    const requests: AuthorizationRequest[] = [{ action, resource: identity, context }];
    if (configurationSet)
      requests.push({
        action,
        resource: `arn:${PARTITION}:ses:${REGION}:${ACCOUNT}:configuration-set/${configurationSet}`,
        context,
      });
    this.authorize(caller, requests);
    if (configurationSet && !this.configurationSets().includes(configurationSet)) {
      throw new Refusal(400, 'ConfigurationSetDoesNotExist', `Configuration set <${configurationSet}> does not exist.`);
    }
    const tags: Record<string, string> = {};
    for (const [key, value] of form.entries()) {
      const match = /^Tags\.member\.(\d+)\.Name$/.exec(key);
      if (match) tags[value] = form.get(`Tags.member.${match[1]}.Value`) ?? '';
    }
    const forwarded = await this.forward(this.backends.ses, request, body);
    if (forwarded.status === 200)
      this.emails.push({ caller: caller.fn.entry, from, destinations, configurationSet, tags });
    return forwarded;
  }

  /** The most specific identity of the template that covers an address: itself, its domain, a parent domain. */
  private identityFor(address: string): string | undefined {
    const identities = Object.entries(this.deployment.template.Resources)
      .filter(([, resource]) => resource.Type === 'AWS::SES::EmailIdentity')
      .map(([logicalId]) => this.deployment.physicalName(logicalId).toLowerCase());
    const domain = address.split('@')[1] ?? '';
    const candidates = [address, ...domain.split('.').map((_part, index, parts) => parts.slice(index).join('.'))];
    const found = candidates.find((candidate) => identities.includes(candidate));
    return found === undefined ? undefined : `arn:${PARTITION}:ses:${REGION}:${ACCOUNT}:identity/${found}`;
  }

  private configurationSets(): string[] {
    return Object.entries(this.deployment.template.Resources)
      .filter(([, resource]) => resource.Type === 'AWS::SES::ConfigurationSet')
      .map(([logicalId]) => this.deployment.physicalName(logicalId));
  }

  private queueArns(): string[] {
    return Object.entries(this.deployment.template.Resources)
      .filter(([, resource]) => resource.Type === 'AWS::SQS::Queue')
      .map(([logicalId]) => this.deployment.arnOf(logicalId));
  }

  private async sqs(caller: Caller, request: IncomingMessage, body: Buffer): Promise<Handled> {
    const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
    const input = JSON.parse(body.toString('utf8') || '{}') as {
      QueueUrl?: string;
      MessageBody?: string;
      Entries?: { Id: string; MessageBody: string }[];
    };
    if (operation !== 'SendMessage' && operation !== 'SendMessageBatch')
      throw new Refusal(400, 'InvalidAction', `the SQS stand-in does not know ${operation}`);
    const queueArn = arnOfQueueUrl(input.QueueUrl ?? '');
    // Both operations are authorized as sqs:SendMessage.
    this.authorize(caller, [{ action: 'sqs:SendMessage', resource: queueArn }]);
    if (!this.queueArns().includes(queueArn))
      throw new Refusal(
        400,
        'AWS.SimpleQueueService.NonExistentQueue',
        `The specified queue does not exist: ${input.QueueUrl}`,
      );
    const json = (value: unknown): Handled => ({
      status: 200,
      headers: { 'content-type': 'application/x-amz-json-1.0' },
      body: JSON.stringify(value),
    });
    if (operation === 'SendMessage') {
      this.queued.push({ caller: caller.fn.entry, queueArn, body: input.MessageBody ?? '' });
      return json({ MessageId: randomUUID(), MD5OfMessageBody: md5(input.MessageBody ?? '') });
    }
    const successful = (input.Entries ?? []).map((entry) => {
      this.queued.push({ caller: caller.fn.entry, queueArn, body: entry.MessageBody });
      return { Id: entry.Id, MessageId: randomUUID(), MD5OfMessageBody: md5(entry.MessageBody) };
    });
    return json({ Successful: successful, Failed: [] });
  }

  private async secretsManager(caller: Caller, request: IncomingMessage, body: Buffer): Promise<Handled> {
    const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
    if (operation !== 'GetSecretValue')
      throw new Refusal(400, 'InvalidAction', `the Secrets Manager stand-in does not know ${operation}`);
    const { SecretId = '' } = JSON.parse(body.toString('utf8') || '{}') as { SecretId?: string };
    // A name or partial ARN names the secret whose full ARN starts with it (six random characters follow).
    const arn =
      [...this.secrets.keys()].find(
        (candidate) =>
          candidate === SecretId ||
          candidate.startsWith(`${SecretId}-`) ||
          candidate.split(':').pop()!.startsWith(`${SecretId}-`),
      ) ?? SecretId;
    this.authorize(caller, [{ action: 'secretsmanager:GetSecretValue', resource: arn }]);
    const value = this.secrets.get(arn);
    if (value === undefined)
      throw new Refusal(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return {
      status: 200,
      headers: { 'content-type': 'application/x-amz-json-1.1' },
      body: JSON.stringify({
        ARN: arn,
        Name: arn.split(':').pop()!.slice(0, -7),
        SecretString: value,
        VersionId: randomUUID(),
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1_795_000_000,
      }),
    };
  }

  private functionArns(): string[] {
    return Object.entries(this.deployment.template.Resources)
      .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
      .map(([logicalId]) => this.deployment.arnOf(logicalId));
  }

  private async lambda(caller: Caller, request: IncomingMessage, body: Buffer): Promise<Handled> {
    const url = new URL(request.url ?? '/', 'http://lambda');
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(url.pathname);
    if (!match || request.method !== 'POST')
      throw new Refusal(
        400,
        'InvalidAction',
        `the Lambda stand-in knows only Invoke (got ${request.method} ${url.pathname})`,
      );
    const name = decodeURIComponent(match[1]!);
    const functionArn = this.functionArns().find((arn) => arn === name || arn.endsWith(`:function:${name}`)) ?? name;
    const qualifier = url.searchParams.get('Qualifier');
    const resource = qualifier ? `${functionArn}:${qualifier}` : functionArn;
    this.authorize(caller, [{ action: 'lambda:InvokeFunction', resource }]);
    if (!this.functionArns().includes(functionArn))
      throw new Refusal(404, 'ResourceNotFoundException', `Function not found: ${functionArn}`);
    const invocationType = String(request.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    this.invocations.push({ caller: caller.fn.entry, functionArn, invocationType, payload: body.toString('utf8') });
    return invocationType === 'Event'
      ? { status: 202, body: '' }
      : { status: 200, headers: { 'content-type': 'application/json' }, body: 'null' };
  }

  private async scheduler(caller: Caller, request: IncomingMessage, body: Buffer): Promise<Handled> {
    const url = new URL(request.url ?? '/', 'http://scheduler');
    const match = /^\/schedules\/([^/]+)$/.exec(url.pathname);
    if (!match || request.method !== 'POST')
      throw new Refusal(
        400,
        'InvalidAction',
        `the Scheduler stand-in knows only CreateSchedule (got ${request.method} ${url.pathname})`,
      );
    const input = JSON.parse(body.toString('utf8') || '{}') as Record<string, any>;
    const name = decodeURIComponent(match[1]!);
    const group = (input.GroupName as string | undefined) ?? 'default';
    const arn = `arn:${PARTITION}:scheduler:${REGION}:${ACCOUNT}:schedule/${group}/${name}`;
    const roleArn = String(input.Target?.RoleArn ?? '');
    this.authorize(caller, [
      { action: 'scheduler:CreateSchedule', resource: arn },
      // Scheduler checks that the caller may hand the schedule's role to it.
      { action: 'iam:PassRole', resource: roleArn, context: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    ]);
    if (this.schedules.some((schedule) => schedule.arn === arn))
      throw new Refusal(409, 'ConflictException', `Schedule ${name} already exists.`);
    this.schedules.push({ caller: caller.fn.entry, arn, request: input });
    return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ScheduleArn: arn }) };
  }

  /** Passes an allowed request on to a real stand-in (dynalite, aws-ses-v2-local) unchanged. */
  private forward(backend: string, request: IncomingMessage, body: Buffer): Promise<Handled> {
    const target = new URL(backend);
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: request.method,
          path: request.url,
          headers: { ...request.headers, host: target.host },
          // A connection per request: a kept-alive one can meet the backend closing it (Node's
          // servers drop idle connections after 5 s), and the call fails with "socket hang up".
          agent: false,
        },
        (incoming) => {
          void readBody(incoming).then((data) => {
            const headers: Record<string, string> = {};
            for (const [key, value] of Object.entries(incoming.headers))
              if (typeof value === 'string' && key !== 'content-length' && key !== 'transfer-encoding')
                headers[key] = value;
            resolve({ status: incoming.statusCode ?? 500, headers, body: data });
          }, reject);
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  }
}
