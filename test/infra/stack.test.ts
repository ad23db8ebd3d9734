import { execFileSync } from 'node:child_process';
import { type CfnElement, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { Construct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import cdkJson from '../../cdk.json';
import { HTTP_CALLS, PIPELINE_CALLS, worstCallMs } from '../../functions/adapters/aws-clients';
import {
  readIngestQueueUrl,
  readIngestResources,
  readResources,
  readSecretArns,
  readSenderConcurrency,
  readSendQueueUrl,
  readSettings,
  SENDER_CONCURRENCY,
} from '../../functions/commons/config';
import { countersTableDefinition } from '../../functions/contract/counters-table';
import { deliveriesTableDefinition, issuesTableDefinition } from '../../functions/contract/delivery-tables';
import { limitsTableDefinition } from '../../functions/contract/limits-table';
import { SUBSCRIBERS_TTL_ATTRIBUTE, subscriberTableDefinition } from '../../functions/contract/subscriber-table';
import { ROUTES as APP_ROUTES } from '../../functions/http/route-table';
import { senderConcurrency } from '../../infra/constructs/pipeline';
import type { PushletterStack } from '../../infra/stack';
import { DEPLOYED_CONTEXT, synthesize } from './synth';
import { allStatements, permissionsOfRole, render } from './template';

let stack: PushletterStack;
let template: Template;
let names: Record<string, string>;

const id = (construct: Construct): string =>
  Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
const resource = (construct: Construct) => template.toJSON().Resources[id(construct)];

/** Logical ids → the names the assertions below use. */
function nameResources(stack: PushletterStack): Record<string, string> {
  const { tables, secrets, sending, api, pipeline, alarms } = stack;
  const entries: Array<[Construct, string]> = [
    [tables.subscribers, 'subscribers'],
    [tables.issues, 'issues'],
    [tables.deliveries, 'deliveries'],
    [tables.limits, 'limits'],
    [tables.counters, 'counters'],
    [secrets.tokenKey, 'tokenKeySecret'],
    [secrets.api, 'apiSecret'],
    [secrets.githubToken, 'githubTokenSecret'],
    [sending.identity!, 'identity'],
    [sending.configurationSet, 'configurationSet'],
    [sending.eventsTopic, 'sesEventsTopic'],
    [api.httpApi, 'httpApi'],
    [api.accessLogs, 'accessLogs'],
    [pipeline.ingestQueue.queue, 'ingestQueue'],
    [pipeline.sendQueue.queue, 'sendQueue'],
    [pipeline.sesEventsQueue.queue, 'sesEventsQueue'],
    [pipeline.sesEventsQueue.deadLetterQueue, 'sesEventsDeadLetters'],
    [pipeline.dispatchDeadLetters, 'dispatchDeadLetters'],
    [pipeline.digestDeadLetters, 'digestDeadLetters'],
    [pipeline.digest, 'digest'],
    [pipeline.dispatch, 'dispatch'],
    [pipeline.schedulerRole, 'schedulerRole'],
    [alarms.topic, 'alarmTopic'],
  ];
  for (const [name, fn] of Object.entries(functions(stack)))
    entries.push([fn.logGroup as unknown as Construct, `${name}Logs`]);
  return Object.fromEntries(entries.map(([construct, name]) => [id(construct), name]));
}

function functions(stack: PushletterStack) {
  const { api, pipeline } = stack;
  return {
    api: api.handler,
    ingest: pipeline.ingest,
    dispatch: pipeline.dispatch,
    send: pipeline.send,
    sesEvents: pipeline.sesEvents,
    digest: pipeline.digest,
  };
}

const permissions = (name: keyof ReturnType<typeof functions>) =>
  permissionsOfRole(template, id(functions(stack)[name].role!), names);

const environment = (name: keyof ReturnType<typeof functions>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(resource(functions(stack)[name]).Properties.Environment.Variables as Record<string, unknown>).map(
      ([key, value]) => [key, render(value, names)],
    ),
  );

beforeAll(() => {
  ({ stack, template } = synthesize());
  names = nameResources(stack);
}, 300_000);

describe('functions', () => {
  it('run Node 22 on arm64 from an ESM bundle with source maps, JSON logs kept a month', () => {
    for (const fn of Object.values(functions(stack))) {
      const properties = resource(fn).Properties;
      expect(properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler' });
      expect(properties.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
      expect(properties.LoggingConfig).toMatchObject({ LogFormat: 'JSON', ApplicationLogLevel: 'INFO' });
      expect(render(properties.LoggingConfig.LogGroup, names)).toMatch(/Logs$/);
    }
    const logGroups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(logGroups.length).toBe(7); // six functions and the API's access log
    for (const group of logGroups) expect(group.Properties.RetentionInDays).toBe(30);
  });

  it("are sized per job: the renderer gets the most memory, the webhook answers within GitHub's 10 s", () => {
    const sized = Object.fromEntries(
      Object.entries(functions(stack)).map(([name, fn]) => [
        name,
        { memory: resource(fn).Properties.MemorySize, timeout: resource(fn).Properties.Timeout },
      ]),
    );
    expect(sized).toEqual({
      api: { memory: 512, timeout: 10 },
      ingest: { memory: 1024, timeout: 120 },
      dispatch: { memory: 512, timeout: 300 },
      send: { memory: 512, timeout: 60 },
      sesEvents: { memory: 256, timeout: 30 },
      digest: { memory: 1024, timeout: 300 },
    });
  });

  it("give the API function AWS calls whose every retry ends well inside its timeout (and GitHub's 10 s)", () => {
    const timeoutMs = resource(stack.api.handler).Properties.Timeout * 1000;
    expect(worstCallMs(HTTP_CALLS)).toBeLessThanOrEqual(timeoutMs * 0.7);
    // The pipeline's longer budget would not fit: the API must not use it.
    expect(worstCallMs(PIPELINE_CALLS)).toBeGreaterThan(timeoutMs);
  });

  it("hand every function the settings, which the functions' own config reader accepts", () => {
    for (const name of Object.keys(functions(stack)) as Array<keyof ReturnType<typeof functions>>) {
      const env = environment(name);
      // Confirm and unsubscribe links point at the API itself (no custom domain).
      expect(env.PUSHLETTER_PUBLIC_URL).toBe('httpApi.ApiEndpoint');
      expect(env.PUSHLETTER_CONFIGURATION_SET).toBe('configurationSet');
      const settings = readSettings({
        ...env,
        PUSHLETTER_PUBLIC_URL: 'https://abc.execute-api.eu-west-1.amazonaws.com',
      });
      expect(settings).toMatchObject({
        fromAddress: 'letters@news.example.org',
        maxSendRate: 50,
        editors: ['editor@example.org', 'second@example.org'],
        // cdk.json's list with its labels: the form shows them, dispatch routes by the names.
        topics: [
          { name: '旅行', en: 'Travel', zh: '旅行' },
          { name: 'rust', en: 'rust', zh: 'rust' },
        ],
      });
    }
  });

  it('name only the tables, queues and resources each function uses', () => {
    const resourceKeys = (name: keyof ReturnType<typeof functions>) =>
      Object.keys(environment(name))
        .filter(
          (key) =>
            !key.startsWith('PUSHLETTER_') || key.endsWith('_SECRET_ARN') || key === 'PUSHLETTER_SENDER_CONCURRENCY',
        )
        .sort();
    expect(resourceKeys('api')).toEqual([
      'COUNTERS_TABLE',
      'INGEST_QUEUE_URL',
      'ISSUES_TABLE',
      'LIMITS_TABLE',
      'NODE_OPTIONS',
      'PUSHLETTER_API_SECRET_ARN',
      'PUSHLETTER_TOKEN_KEY_SECRET_ARN',
      'SUBSCRIBERS_TABLE',
    ]);
    expect(resourceKeys('ingest')).toEqual([
      'DISPATCH_FUNCTION_ARN',
      'ISSUES_TABLE',
      'NODE_OPTIONS',
      'PUSHLETTER_GITHUB_TOKEN_SECRET_ARN',
      'SCHEDULER_ROLE_ARN',
      'SCHEDULE_GROUP_NAME',
    ]);
    expect(resourceKeys('dispatch')).toEqual([
      'COUNTERS_TABLE',
      'ISSUES_TABLE',
      'NODE_OPTIONS',
      'PUSHLETTER_TOKEN_KEY_SECRET_ARN',
      'SEND_QUEUE_URL',
      'SUBSCRIBERS_TABLE',
    ]);
    expect(resourceKeys('send')).toEqual([
      'COUNTERS_TABLE',
      'DELIVERIES_TABLE',
      'ISSUES_TABLE',
      'NODE_OPTIONS',
      'PUSHLETTER_SENDER_CONCURRENCY',
      'PUSHLETTER_TOKEN_KEY_SECRET_ARN',
      'SEND_QUEUE_URL',
      'SUBSCRIBERS_TABLE',
    ]);
    // The issues table: a post tagged with a hash of its long id is found there by one GetItem.
    expect(resourceKeys('sesEvents')).toEqual([
      'COUNTERS_TABLE',
      'DELIVERIES_TABLE',
      'ISSUES_TABLE',
      'NODE_OPTIONS',
      'PUSHLETTER_TOKEN_KEY_SECRET_ARN',
      'SUBSCRIBERS_TABLE',
    ]);
    expect(resourceKeys('digest')).toEqual([
      'DISPATCH_FUNCTION_ARN',
      'ISSUES_TABLE',
      'NODE_OPTIONS',
      'PUSHLETTER_TOKEN_KEY_SECRET_ARN',
      'SUBSCRIBERS_TABLE',
    ]);
    expect(environment('ingest').DISPATCH_FUNCTION_ARN).toBe('dispatch.Arn');
    expect(environment('digest').DISPATCH_FUNCTION_ARN).toBe('dispatch.Arn');
    // The readers in functions/commons/config.ts find each function's secrets, and only those.
    expect(readSecretArns(environment('api'))).toEqual({
      tokenKey: 'tokenKeySecret',
      api: 'apiSecret',
      githubToken: undefined,
    });
    expect(readSecretArns(environment('ingest'))).toEqual({
      tokenKey: undefined,
      api: undefined,
      githubToken: 'githubTokenSecret',
    });
    for (const name of ['dispatch', 'send', 'sesEvents'] as const) {
      expect(readSecretArns(environment(name)), name).toEqual({
        tokenKey: 'tokenKeySecret',
        api: undefined,
        githubToken: undefined,
      });
    }
    expect(readIngestResources(environment('ingest'))).toEqual({
      dispatchFunctionArn: 'dispatch.Arn',
      scheduleGroup: 'Pushletter-posts',
      schedulerRoleArn: 'schedulerRole.Arn',
    });
    expect(readIngestQueueUrl(environment('api'))).toBe('ingestQueue');
    expect(readResources(environment('send'))).toEqual({
      subscribersTable: 'subscribers',
      issuesTable: 'issues',
      deliveriesTable: 'deliveries',
      countersTable: 'counters',
    });
    expect(readSendQueueUrl(environment('dispatch'))).toBe('sendQueue');
    // The sender puts recipients a dead sender left in doubt back on its own queue, delayed,
    // and sends them again only once a Send event would have been recorded: 15 minutes at least.
    expect(readSendQueueUrl(environment('send'))).toBe('sendQueue');
    expect(environment('send').PUSHLETTER_RESEND_AFTER_SECONDS).toBe('900');
    // The stack and the send function's reader agree on one number of SES calls in flight.
    expect(environment('send').PUSHLETTER_SENDER_CONCURRENCY).toBe(String(SENDER_CONCURRENCY));
    expect(readSenderConcurrency(environment('send'))).toBe(SENDER_CONCURRENCY);
    expect(() => readSenderConcurrency({ PUSHLETTER_SENDER_CONCURRENCY: '0' })).toThrow(
      /PUSHLETTER_SENDER_CONCURRENCY must be a whole number/,
    );
    expect(() => readSenderConcurrency({ PUSHLETTER_SENDER_CONCURRENCY: 'many' })).toThrow(
      /PUSHLETTER_SENDER_CONCURRENCY/,
    );
  });
});

describe('permissions (least privilege)', () => {
  // The sandbox statement: any of the account's identities (the recipient's, in the sandbox), only as our From address.
  const SEND_MAIL = [
    'ses:SendRawEmail -> arn:aws:ses:${Region}:${Account}:identity/identity, arn:aws:ses:${Region}:${Account}:configuration-set/configurationSet',
    'ses:SendRawEmail -> arn:aws:ses:${Region}:${Account}:identity/* if {"StringEquals":{"ses:FromAddress":"letters@news.example.org"}}',
  ];
  const TOKEN_KEY = 'secretsmanager:GetSecretValue -> tokenKeySecret';
  // Counters are only ever added to, one UpdateItem ADD per scope; only the CLI reads them.
  const COUNT = 'dynamodb:UpdateItem -> counters.Arn';
  const logs = (name: string) => `logs:CreateLogStream, logs:PutLogEvents -> ${name}Logs.Arn`;
  const consume = (queue: string) =>
    `sqs:ReceiveMessage, sqs:ChangeMessageVisibility, sqs:GetQueueUrl, sqs:DeleteMessage, sqs:GetQueueAttributes -> ${queue}.Arn`;

  it('api: the subscriber and limits tables, the stored welcome email, the secret, its SES identity, and putting pushes on the ingest queue', () => {
    expect(permissions('api')).toEqual(
      [
        'dynamodb:GetItem, dynamodb:UpdateItem -> subscribers.Arn',
        'dynamodb:GetItem, dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:DeleteItem, dynamodb:Query -> limits.Arn',
        // The click redirect reads a post's link list; confirming reads the stored welcome.
        'dynamodb:GetItem -> issues.Arn',
        COUNT,
        TOKEN_KEY,
        'secretsmanager:GetSecretValue -> apiSecret',
        ...SEND_MAIL,
        'sqs:SendMessage -> ingestQueue.Arn',
        logs('api'),
      ].sort(),
    );
  });

  it('ingest: issues, previews by mail, starting the dispatcher now or by a schedule in its own group', () => {
    expect(permissions('ingest')).toEqual(
      [
        'dynamodb:GetItem, dynamodb:PutItem -> issues.Arn',
        'secretsmanager:GetSecretValue -> githubTokenSecret',
        ...SEND_MAIL,
        consume('ingestQueue'),
        'lambda:InvokeFunction -> dispatch.Arn',
        'scheduler:CreateSchedule -> arn:aws:scheduler:${Region}:${Account}:schedule/Pushletter-posts/*',
        'iam:PassRole -> schedulerRole.Arn if {"StringEquals":{"iam:PassedToService":"scheduler.amazonaws.com"}}',
        logs('ingest'),
      ].sort(),
    );
  });

  it('ingest with tracking aggregate: the token key too, to sign the redirect links, and only then', () => {
    const tracked = synthesize({ ...DEPLOYED_CONTEXT, tracking: 'aggregate', opens: 'true' });
    const ingest = tracked.stack.pipeline.ingest;
    const trackedPermissions = permissionsOfRole(tracked.template, id(ingest.role!), nameResources(tracked.stack));
    expect(trackedPermissions).toContain(TOKEN_KEY);
    expect(permissions('ingest')).not.toContain(TOKEN_KEY);
    const variables = tracked.template.toJSON().Resources[id(ingest)].Properties.Environment.Variables as Record<
      string,
      unknown
    >;
    expect(variables).toMatchObject({ PUSHLETTER_TRACKING: 'aggregate', PUSHLETTER_TRACKING_OPENS: 'true' });
    expect(variables.PUSHLETTER_TOKEN_KEY_SECRET_ARN).toBeDefined();
  });

  it('dispatch: reads subscribers, checkpoints issues, fills the send queue, continues itself', () => {
    expect(permissions('dispatch')).toEqual(
      [
        'dynamodb:Query -> subscribers.Arn/index/active-by-list',
        'dynamodb:GetItem, dynamodb:UpdateItem -> issues.Arn',
        COUNT,
        TOKEN_KEY,
        'sqs:SendMessage -> sendQueue.Arn',
        'lambda:InvokeFunction -> dispatch.Arn',
        'sqs:SendMessage -> dispatchDeadLetters.Arn',
        logs('dispatch'),
      ].sort(),
    );
  });

  it("digest: pages readers, reads the week's posts, records the digest and its variants, starts the dispatcher", () => {
    expect(permissions('digest')).toEqual(
      [
        'dynamodb:Query -> subscribers.Arn/index/active-by-list',
        'dynamodb:GetItem, dynamodb:Scan, dynamodb:PutItem, dynamodb:UpdateItem -> issues.Arn',
        TOKEN_KEY,
        'lambda:InvokeFunction -> dispatch.Arn',
        'sqs:SendMessage -> digestDeadLetters.Arn',
        logs('digest'),
      ].sort(),
    );
  });

  it('send: reads subscribers and issues, claims deliveries, sends from its identity, reads the quota, queues follow-ups', () => {
    expect(permissions('send')).toEqual(
      [
        'dynamodb:BatchGetItem -> subscribers.Arn',
        'dynamodb:GetItem -> issues.Arn',
        'dynamodb:GetItem, dynamodb:BatchGetItem, dynamodb:UpdateItem, dynamodb:PutItem, dynamodb:BatchWriteItem -> deliveries.Arn',
        COUNT,
        TOKEN_KEY,
        ...SEND_MAIL,
        'ses:GetSendQuota -> *',
        consume('sendQueue'),
        'sqs:SendMessage -> sendQueue.Arn',
        logs('send'),
      ].sort(),
    );
  });

  it('ses-events: reads its queue, marks subscribers and deliveries, finds a long-slug post by one read of its tag, nothing else', () => {
    expect(permissions('sesEvents')).toEqual(
      [
        'dynamodb:GetItem, dynamodb:UpdateItem -> subscribers.Arn',
        'dynamodb:UpdateItem -> deliveries.Arn',
        'dynamodb:GetItem -> issues.Arn',
        COUNT,
        TOKEN_KEY,
        consume('sesEventsQueue'),
        logs('sesEvents'),
      ].sort(),
    );
  });

  it('grants no wildcard action anywhere, and "*" resources only for ses:GetSendQuota and inside key policies', () => {
    const allows = allStatements(template).filter(({ statement }) => statement.Effect === 'Allow');
    expect(allows.length).toBeGreaterThan(20);
    for (const { resource: where, statement } of allows) {
      for (const action of [statement.Action].flat()) expect(action, `${where}: ${action}`).not.toContain('*');
    }
    const anyResource = allows.filter(({ statement }) => [statement.Resource].flat().includes('*'));
    const kinds = anyResource.map(
      ({ resource: where, statement }) =>
        `${template.toJSON().Resources[where].Type} ${[statement.Action].flat().join(',')}`,
    );
    expect(new Set(kinds.map((kind) => kind.split(' ')[0]))).toEqual(new Set(['AWS::IAM::Policy', 'AWS::KMS::Key']));
    expect(kinds.filter((kind) => kind.startsWith('AWS::IAM::Policy'))).toEqual(['AWS::IAM::Policy ses:GetSendQuota']);
  });

  it('runs schedules with a role that can only invoke the dispatcher, and only for this account', () => {
    expect(permissionsOfRole(template, id(stack.pipeline.schedulerRole), names)).toEqual([
      'lambda:InvokeFunction -> dispatch.Arn',
    ]);
    const role = resource(stack.pipeline.schedulerRole).Properties;
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      },
    ]);
    const passRole = allStatements(template).find(({ statement }) => statement.Action === 'iam:PassRole')!.statement;
    expect(passRole.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'Pushletter-posts' });
  });

  it('starts the weekly digest on the site clock, with a role that can only invoke the digest function', () => {
    const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule'));
    expect(schedules).toHaveLength(1);
    const schedule = schedules[0]!.Properties;
    // cdk.json's defaults: Monday 08:00, in the site's zone.
    expect(schedule).toMatchObject({
      ScheduleExpression: 'cron(0 8 ? * MON *)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
    });
    expect(render(schedule.Target.Arn, names)).toBe('digest.Arn');
    const roleId = (schedule.Target.RoleArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
    expect(permissionsOfRole(template, roleId, names)).toEqual(['lambda:InvokeFunction -> digest.Arn']);
    expect(template.toJSON().Resources[roleId].Properties.AssumeRolePolicyDocument.Statement[0].Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
    });
    const shanghai = synthesize({ ...DEPLOYED_CONTEXT, timezone: 'Asia/Shanghai', digestDay: 'fri', digestHour: 18 });
    shanghai.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 18 ? * FRI *)',
      ScheduleExpressionTimezone: 'Asia/Shanghai',
    });
  });
});

describe('HTTP API', () => {
  it('routes exactly the reader pages and the webhook to the API function', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route'))
      .map((route) => route.Properties.RouteKey)
      .sort();
    expect(routes).toEqual([
      'GET /',
      'GET /confirm',
      'GET /o/{pixel}',
      'GET /preferences',
      'GET /r/{post}/{link}',
      'GET /unsubscribe',
      // Scanners' HEADs reach the redirect and the pixel as they do locally (counted as machines).
      'HEAD /o/{pixel}',
      'HEAD /r/{post}/{link}',
      'POST /confirm',
      'POST /hooks/github',
      'POST /preferences',
      'POST /subscribe',
      'POST /unsubscribe',
    ]);
    // The same list the HTTP app answers locally: a route added there must be added here.
    expect(routes).toEqual(APP_ROUTES.map((route) => `${route.method} ${route.path}`).sort());
    const integrations = Object.values(template.findResources('AWS::ApiGatewayV2::Integration'));
    expect(integrations).toHaveLength(1);
    // functions/http/api-gateway.ts reads the 2.0 event shape.
    expect(integrations[0]!.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
    expect(render(integrations[0]!.Properties.IntegrationUri, names)).toBe(`${id(stack.api.handler)}.Arn`);
  });

  it('throttles, logs access without IPs or query strings, and allows CORS from the site origin only', () => {
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0]!.Properties;
    expect(stage).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
    expect(render(stage.AccessLogSettings.DestinationArn, names)).toBe('accessLogs.Arn');
    const format = JSON.parse(stage.AccessLogSettings.Format);
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      status: '$context.status',
      route: '$context.routeKey',
    });
    expect(stage.AccessLogSettings.Format).not.toMatch(/sourceIp|querystring|path\b/i);
    // Route-level limits: a flood of signups has its own bucket and leaves unsubscribes and
    // GitHub's deliveries theirs (issues 9 and 14).
    expect(stage.RouteSettings).toEqual({
      'POST /subscribe': { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
      'POST /unsubscribe': { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      'POST /hooks/github': { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
      // Readers' clicks right after a send (aggregate tracking).
      'GET /r/{post}/{link}': { ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 },
      'GET /o/{pixel}': { ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 },
      'HEAD /r/{post}/{link}': { ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 },
      'HEAD /o/{pixel}': { ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 },
    });
    // API Gateway refuses settings for a route that does not exist yet: the stage waits for them.
    const stageDependsOn = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0]!.DependsOn as string[];
    const routes = template.findResources('AWS::ApiGatewayV2::Route');
    for (const key of Object.keys(stage.RouteSettings)) {
      const route = Object.entries(routes).find(([, candidate]) => candidate.Properties.RouteKey === key);
      expect(route, key).toBeDefined();
      expect(stageDependsOn, key).toContain(route![0]);
    }
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: {
        AllowOrigins: ['https://blog.example.org'],
        AllowMethods: ['GET', 'POST'],
        AllowHeaders: ['content-type'],
      },
    });
  });

  it("outputs the form, webhook and unsubscribe URLs, each secret's ARN, and no secret value", () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const base = render(outputs.FormUrl!.Value, names).replace(/\/$/, '');
    expect(base).toBe('httpApi.ApiEndpoint');
    expect(render(outputs.WebhookUrl!.Value, names)).toBe(`${base}/hooks/github`);
    expect(render(outputs.UnsubscribeBaseUrl!.Value, names)).toBe(`${base}/unsubscribe`);
    expect(
      [outputs.ApiSecretArn, outputs.GitHubTokenSecretArn, outputs.TokenKeySecretArn].map((output) =>
        render(output!.Value, names),
      ),
    ).toEqual(['apiSecret', 'githubTokenSecret', 'tokenKeySecret']);
    expect(outputs.SecretArn).toBeUndefined();
    expect(outputs.ApiDomainTarget).toBeUndefined();
    // The CLI's names for acting on the deployed stack.
    expect(render(outputs.PublicUrl!.Value, names)).toBe(base);
    expect(
      [outputs.SubscribersTable, outputs.IssuesTable, outputs.DeliveriesTable, outputs.CountersTable].map((output) =>
        render(output!.Value, names),
      ),
    ).toEqual(['subscribers', 'issues', 'deliveries', 'counters']);
    expect(JSON.stringify(outputs)).not.toMatch(/resolve:secretsmanager|SecretString/);
  });

  it("outputs the whole environment the CLI needs for --aws, ready for eval in a shell: the Lambdas' settings, the tables and the secret's ARN", () => {
    // A title a shell would otherwise split, expand or end the quote of.
    const title = `Ann's "notes" & $HOME; \\ $(echo no)`;
    const synthesized = synthesize({ ...DEPLOYED_CONTEXT, siteTitle: title });
    const ids = nameResources(synthesized.stack);
    const outputs = synthesized.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const line = render(outputs.CliEnvironment!.Value, ids).replaceAll(
      'httpApi.ApiEndpoint',
      'https://abc.execute-api.eu-west-1.amazonaws.com',
    );
    const printed = execFileSync('bash', ['-c', 'eval "$1" && env -0', 'bash', line], {
      env: { PATH: process.env.PATH },
      encoding: 'utf8',
    });
    const exported = Object.fromEntries(
      printed
        .split('\0')
        .filter(Boolean)
        .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
    );

    expect(readSettings(exported)).toMatchObject({
      siteUrl: 'https://blog.example.org',
      siteTitle: title,
      fromAddress: 'letters@news.example.org',
      fromName: 'Example Letters',
      replyTo: 'editor@example.org',
      publicUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com',
      maxSendRate: 50,
      configurationSet: 'configurationSet',
    });
    expect(readResources(exported)).toEqual({
      subscribersTable: 'subscribers',
      issuesTable: 'issues',
      deliveriesTable: 'deliveries',
      countersTable: 'counters',
    });
    // The CLI signs and finds subscribers with the token key; it reads no other secret.
    expect(readSecretArns(exported)).toEqual({ tokenKey: 'tokenKeySecret', api: undefined, githubToken: undefined });
    // Every setting the send function has, the CLI has too, with the same value.
    const sendSettings = Object.entries(environment('send')).filter(
      ([key]) =>
        key.startsWith('PUSHLETTER_') && key !== 'PUSHLETTER_SENDER_CONCURRENCY' && key !== 'PUSHLETTER_PUBLIC_URL',
    );
    expect(sendSettings.length).toBeGreaterThan(10);
    for (const [key, value] of sendSettings)
      expect(exported[key], key).toBe(key === 'PUSHLETTER_SITE_TITLE' ? title : value);
  });
});

describe('tables', () => {
  /** The template's key schema in CreateTable's shape, to compare with the code's definitions. */
  function definitionOf(table: Construct) {
    const properties = resource(table).Properties;
    return {
      AttributeDefinitions: [...properties.AttributeDefinitions].sort((a, b) =>
        a.AttributeName.localeCompare(b.AttributeName),
      ),
      KeySchema: properties.KeySchema,
      GlobalSecondaryIndexes: properties.GlobalSecondaryIndexes,
      BillingMode: properties.BillingMode,
    };
  }
  const expected = (definition: typeof subscriberTableDefinition) => ({
    AttributeDefinitions: [...definition.AttributeDefinitions!].sort((a, b) =>
      a.AttributeName!.localeCompare(b.AttributeName!),
    ),
    KeySchema: definition.KeySchema,
    GlobalSecondaryIndexes: definition.GlobalSecondaryIndexes,
    BillingMode: 'PAY_PER_REQUEST',
  });

  it('have the keys and indexes the code creates locally (the same definitions)', () => {
    expect(definitionOf(stack.tables.subscribers)).toEqual(expected(subscriberTableDefinition));
    expect(definitionOf(stack.tables.issues)).toEqual(expected(issuesTableDefinition));
    expect(definitionOf(stack.tables.deliveries)).toEqual(expected(deliveriesTableDefinition));
    expect(definitionOf(stack.tables.limits)).toEqual(expected(limitsTableDefinition));
    expect(definitionOf(stack.tables.counters)).toEqual(expected(countersTableDefinition));
  });

  it('are on-demand with point-in-time recovery and encryption', () => {
    const tables = Object.values(template.findResources('AWS::DynamoDB::Table'));
    expect(tables).toHaveLength(5);
    for (const table of tables) {
      expect(table.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      });
    }
  });

  it('keep the subscribers (deletion protection, retained with the stack); the rest go with it', () => {
    expect(resource(stack.tables.subscribers)).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: { DeletionProtectionEnabled: true },
    });
    expect(resource(stack.tables.issues).DeletionPolicy).toBe('Delete');
    expect(resource(stack.tables.deliveries).DeletionPolicy).toBe('Delete');
    expect(resource(stack.tables.limits).DeletionPolicy).toBe('Delete');
  });

  it('expire the rate-window items, signup limits and unconfirmed signups (TTL on expiresAt); issues never expire', () => {
    expect(resource(stack.tables.deliveries).Properties.TimeToLiveSpecification).toEqual({
      AttributeName: 'expiresAt',
      Enabled: true,
    });
    expect(resource(stack.tables.limits).Properties.TimeToLiveSpecification).toEqual({
      AttributeName: 'expiresAt',
      Enabled: true,
    });
    // The attribute the subscriber store puts on a pending signup and removes on confirming.
    expect(resource(stack.tables.subscribers).Properties.TimeToLiveSpecification).toEqual({
      AttributeName: SUBSCRIBERS_TTL_ATTRIBUTE,
      Enabled: true,
    });
    expect(resource(stack.tables.issues).Properties.TimeToLiveSpecification).toBeUndefined();
  });
});

describe('signup protection', () => {
  it('runs the API function every 5 minutes to send confirmations that waited for the hourly cap, reminders and welcomes', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule'));
    const waiting = rules.filter((rule) => rule.Properties.ScheduleExpression === 'rate(5 minutes)');
    expect(waiting).toHaveLength(1);
    expect(JSON.stringify(waiting[0]!.Properties.Targets)).toContain(
      stack.getLogicalId(stack.api.handler.node.defaultChild as CfnElement),
    );
  });

  it("checks email domains in DNS on AWS, with the functions' defaults for the limits", () => {
    const settings = readSettings({
      ...environment('api'),
      PUSHLETTER_PUBLIC_URL: 'https://abc.execute-api.eu-west-1.amazonaws.com',
    });
    expect(settings.signup).toMatchObject({ limits: true, checkDomainDns: true, confirmationsPerHour: 200 });
    expect(settings.signup.captcha).toBeUndefined();
  });
});

describe('queues', () => {
  it('are encrypted, refuse non-TLS access, and park failures in a dead-letter queue', () => {
    const queues = template.findResources('AWS::SQS::Queue');
    expect(Object.keys(queues)).toHaveLength(8); // ingest, send and SES events with their DLQs; dispatch's and digest's async DLQs
    for (const queue of Object.values(queues)) expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    const sslDenied = new Set(
      allStatements(template)
        .filter(
          ({ statement }) =>
            statement.Effect === 'Deny' &&
            JSON.stringify(statement.Condition) === '{"Bool":{"aws:SecureTransport":"false"}}',
        )
        .flatMap(({ statement }) => [statement.Resource].flat().map((arn) => render(arn, {}))),
    );
    for (const queueId of Object.keys(queues)) expect(sslDenied.has(`${queueId}.Arn`), queueId).toBe(true);
    const redrive = (queue: Construct) => resource(queue).Properties.RedrivePolicy;
    expect(redrive(stack.pipeline.sendQueue.queue)).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [id(stack.pipeline.sendQueue.deadLetterQueue), 'Arn'] },
      maxReceiveCount: 5,
    });
    expect(redrive(stack.pipeline.ingestQueue.queue).maxReceiveCount).toBe(3);
    expect(redrive(stack.pipeline.sesEventsQueue.queue)).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [id(stack.pipeline.sesEventsQueue.deadLetterQueue), 'Arn'] },
      maxReceiveCount: 3,
    });
  });

  it("hide a received message for at least six times its consumer's timeout", () => {
    const pairs = [
      [stack.pipeline.sendQueue.queue, stack.pipeline.send],
      [stack.pipeline.ingestQueue.queue, stack.pipeline.ingest],
      [stack.pipeline.sesEventsQueue.queue, stack.pipeline.sesEvents],
    ] as const;
    for (const [queue, consumer] of pairs) {
      expect(resource(queue).Properties.VisibilityTimeout).toBeGreaterThanOrEqual(
        6 * resource(consumer).Properties.Timeout,
      );
    }
  });

  it('feed the sender one message at a time with partial batch failures, capped to hold the SES rate', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: id(stack.pipeline.send) },
      EventSourceArn: { 'Fn::GetAtt': [id(stack.pipeline.sendQueue.queue), 'Arn'] },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: senderConcurrency(50) },
    });
  });

  it('feed ses-events batches of up to 100 SES events gathered for 5 s, with partial batch failures, two consumers per sender at most', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: id(stack.pipeline.sesEvents) },
      EventSourceArn: { 'Fn::GetAtt': [id(stack.pipeline.sesEventsQueue.queue), 'Arn'] },
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 * senderConcurrency(50) },
    });
    // Only SQS invokes it now: no asynchronous invocation, so no retries or dead-letter queue of Lambda's own.
    expect(resource(stack.pipeline.sesEvents).Properties.DeadLetterConfig).toBeUndefined();
    template.resourcePropertiesCountIs('AWS::SNS::Subscription', Match.objectLike({ Protocol: 'lambda' }), 0);
  });

  it('let only the SES events topic send to the events queue, as SNS envelopes (raw delivery off)', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      TopicArn: { Ref: id(stack.sending.eventsTopic) },
      Endpoint: { 'Fn::GetAtt': [id(stack.pipeline.sesEventsQueue.queue), 'Arn'] },
    });
    const subscription = Object.values(template.findResources('AWS::SNS::Subscription')).find(
      (found) => found.Properties.Protocol === 'sqs',
    )!;
    expect(subscription.Properties.RawMessageDelivery ?? false).toBe(false);
    const allowed = allStatements(template).filter(
      ({ resource: where, statement }) =>
        template.toJSON().Resources[where].Type === 'AWS::SQS::QueuePolicy' &&
        statement.Effect === 'Allow' &&
        [statement.Resource].flat().some((arn) => render(arn, names) === 'sesEventsQueue.Arn'),
    );
    expect(allowed.map(({ statement }) => [statement.Principal, statement.Action, statement.Condition])).toEqual([
      [
        { Service: 'sns.amazonaws.com' },
        'sqs:SendMessage',
        { ArnEquals: { 'aws:SourceArn': { Ref: id(stack.sending.eventsTopic) } } },
      ],
    ]);
  });
});

describe('sender concurrency', () => {
  it("grows with the SES rate, never below SQS's minimum of two, never without bound", () => {
    expect(senderConcurrency(1)).toBe(2);
    expect(senderConcurrency(14)).toBe(2);
    expect(senderConcurrency(500)).toBe(5);
    expect(senderConcurrency(3000)).toBe(30);
    expect(senderConcurrency(1_000_000)).toBe(200);
  });

  it("lengthens the sender's timeout (and the queue's visibility) at the sandbox rate of 1 email/s", () => {
    const { stack: slow, template: slowTemplate } = synthesize({ ...DEPLOYED_CONTEXT, maxSendRate: '1' });
    const timeout = slowTemplate.toJSON().Resources[id(slow.pipeline.send)].Properties.Timeout as number;
    // 50 recipients at half of 1/s each, twice over.
    expect(timeout).toBe(200);
    expect(slowTemplate.toJSON().Resources[id(slow.pipeline.sendQueue.queue)].Properties.VisibilityTimeout).toBe(1200);
  }, 300_000);
});

describe('SES', () => {
  it('sends through a configuration set with reputation metrics, suppressing bounced and complained addresses', () => {
    expect(resource(stack.sending.configurationSet).Properties).toMatchObject({
      ReputationOptions: { ReputationMetricsEnabled: true },
      SuppressionOptions: { SuppressedReasons: ['BOUNCE', 'COMPLAINT'] },
      SendingOptions: { SendingEnabled: true },
    });
  });

  it('publishes sends, deliveries, bounces, complaints, rejects and delays to an encrypted, TLS-only topic that feeds the events queue', () => {
    // One destination: each event type reaches ses-events once (two would deliver it twice).
    const destinations = Object.values(template.findResources('AWS::SES::ConfigurationSetEventDestination'));
    expect(destinations).toHaveLength(1);
    expect(destinations[0]!.Properties).toMatchObject({
      ConfigurationSetName: { Ref: id(stack.sending.configurationSet) },
      EventDestination: {
        Enabled: true,
        SnsDestination: { TopicARN: { Ref: id(stack.sending.eventsTopic) } },
      },
    });
    // CloudFormation's names for SES's Send, Delivery, Bounce, Complaint, Reject and DeliveryDelay events.
    expect([...destinations[0]!.Properties.EventDestination.MatchingEventTypes].sort()).toEqual(
      ['bounce', 'complaint', 'delivery', 'deliveryDelay', 'reject', 'send'].sort(),
    );
    expect(resource(stack.sending.eventsTopic).Properties.KmsMasterKeyId).toBeDefined();
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      TopicArn: { Ref: id(stack.sending.eventsTopic) },
      Endpoint: { 'Fn::GetAtt': [id(stack.pipeline.sesEventsQueue.queue), 'Arn'] },
    });
    const topicStatements = allStatements(template).filter(
      ({ resource: where }) => template.toJSON().Resources[where].Type === 'AWS::SNS::TopicPolicy',
    );
    const deniesPlainHttp = topicStatements.filter(
      ({ statement }) =>
        statement.Effect === 'Deny' &&
        JSON.stringify(statement.Condition) === '{"Bool":{"aws:SecureTransport":"false"}}',
    );
    expect(deniesPlainHttp.map(({ statement }) => render(statement.Resource, names)).sort()).toEqual([
      'alarmTopic',
      'sesEventsTopic',
    ]);
    const sesPublish = topicStatements.find(
      ({ statement }) => JSON.stringify(statement.Principal) === '{"Service":"ses.amazonaws.com"}',
    )!.statement;
    expect(sesPublish.Action).toBe('sns:Publish');
  });

  it('creates the domain identity with Easy DKIM when a domain is configured, and outputs its three DKIM records', () => {
    expect(resource(stack.sending.identity!).Properties).toMatchObject({
      EmailIdentity: 'example.org',
      DkimAttributes: { SigningEnabled: true },
      ConfigurationSetAttributes: { ConfigurationSetName: { Ref: id(stack.sending.configurationSet) } },
    });
    expect(resource(stack.sending.identity!).Properties.MailFromAttributes).toBeUndefined();
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect([1, 2, 3].map((index) => render(outputs[`DkimRecord${index}`]!.Value, names))).toEqual(
      [1, 2, 3].map((index) => `identity.DkimDNSTokenName${index} CNAME identity.DkimDNSTokenValue${index}`),
    );
    expect(render(outputs.SesIdentity!.Value, names)).toBe('example.org');
    expect(outputs.MailFromMxRecord).toBeUndefined();
  });

  it('sets a MAIL FROM subdomain (SPF aligned with the From domain) and outputs its MX and SPF records', () => {
    const { stack: mailFrom, template: mailFromTemplate } = synthesize({
      ...DEPLOYED_CONTEXT,
      mailFromDomain: 'bounce.example.org',
    });
    const identity = mailFromTemplate.toJSON().Resources[id(mailFrom.sending.identity!)].Properties;
    // Until the MX record exists SES keeps sending with its own MAIL FROM instead of refusing.
    expect(identity.MailFromAttributes).toEqual({
      MailFromDomain: 'bounce.example.org',
      BehaviorOnMxFailure: 'USE_DEFAULT_VALUE',
    });
    const outputs = mailFromTemplate.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(render(outputs.MailFromMxRecord!.Value, {})).toBe(
      'bounce.example.org MX 10 feedback-smtp.${Region}.amazonses.com',
    );
    expect(render(outputs.MailFromSpfRecord!.Value, {})).toBe(
      'bounce.example.org TXT "v=spf1 include:amazonses.com ~all"',
    );
  });

  it('uses an identity that already exists instead of creating one (CloudFormation cannot create it twice)', () => {
    const { stack: existing, template: existingTemplate } = synthesize({
      ...DEPLOYED_CONTEXT,
      existingIdentity: 'true',
    });
    existingTemplate.resourceCountIs('AWS::SES::EmailIdentity', 0);
    expect(existing.sending.identity).toBeUndefined();
    const sendPermissions = permissionsOfRole(existingTemplate, id(existing.pipeline.send.role!), {});
    expect(sendPermissions).toContain(
      'ses:SendRawEmail -> arn:aws:ses:${Region}:${Account}:identity/example.org, arn:aws:ses:${Region}:${Account}:configuration-set/' +
        id(existing.sending.configurationSet),
    );
    const outputs = existingTemplate.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.DkimRecord1).toBeUndefined();
    expect(render(outputs.SesIdentity!.Value, {})).toBe('example.org');
  });

  it('without a domain, verifies just the from address, and the grant is limited to that address', () => {
    const { stack: plain, template: plainTemplate } = synthesize(cdkJson.context);
    const identity = plainTemplate.toJSON().Resources[id(plain.sending.identity!)].Properties;
    expect(identity.EmailIdentity).toBe('newsletter@example.com');
    expect(identity.DkimAttributes).toBeUndefined();
    const sendPermissions = permissionsOfRole(plainTemplate, id(plain.pipeline.send.role!), {
      [id(plain.sending.identity!)]: 'identity',
    });
    expect(sendPermissions.filter((line) => line.startsWith('ses:SendRawEmail'))).toEqual(
      [
        'ses:SendRawEmail -> arn:aws:ses:${Region}:${Account}:identity/identity, arn:aws:ses:${Region}:${Account}:configuration-set/' +
          id(plain.sending.configurationSet),
        'ses:SendRawEmail -> arn:aws:ses:${Region}:${Account}:identity/* if {"StringEquals":{"ses:FromAddress":"newsletter@example.com"}}',
      ].sort(),
    );
    expect((plainTemplate.toJSON().Outputs as Record<string, unknown>).DkimRecord1).toBeUndefined();
  });
});

describe('custom domain for links', () => {
  it('puts the API on apiDomain with the given certificate, uses it for every link in every email, and outputs the DNS target', () => {
    const certificateArn = 'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789';
    const { stack: custom, template: customTemplate } = synthesize({
      ...DEPLOYED_CONTEXT,
      apiDomain: 'letters.example.org',
      apiCertificateArn: certificateArn,
    });
    customTemplate.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: 'letters.example.org',
      DomainNameConfigurations: [Match.objectLike({ CertificateArn: certificateArn, EndpointType: 'REGIONAL' })],
    });
    customTemplate.resourceCountIs('AWS::CertificateManager::Certificate', 0);
    const domainId = id(custom.api.domainName!);
    customTemplate.hasResourceProperties('AWS::ApiGatewayV2::ApiMapping', {
      ApiId: { Ref: id(custom.api.httpApi) },
      DomainName: { Ref: domainId },
      Stage: '$default',
    });
    const env = (fn: Construct) =>
      customTemplate.toJSON().Resources[id(fn)].Properties.Environment.Variables as Record<string, unknown>;
    for (const fn of [
      custom.api.handler,
      custom.pipeline.send,
      custom.pipeline.ingest,
      custom.pipeline.dispatch,
      custom.pipeline.sesEvents,
    ]) {
      expect(env(fn).PUSHLETTER_PUBLIC_URL).toBe('https://letters.example.org');
    }
    const outputs = customTemplate.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(render(outputs.UnsubscribeBaseUrl!.Value, {})).toBe('https://letters.example.org/unsubscribe');
    expect(render(outputs.WebhookUrl!.Value, {})).toBe('https://letters.example.org/hooks/github');
    expect(render(outputs.PublicUrl!.Value, {})).toBe('https://letters.example.org');
    expect(render(outputs.ApiDomainTarget!.Value, { [domainId]: 'domain' })).toBe('domain.RegionalDomainName');
    expect(render(outputs.ApiDomainHostedZoneId!.Value, { [domainId]: 'domain' })).toBe('domain.RegionalHostedZoneId');
  });

  it('without a certificate ARN, requests one from ACM validated by DNS', () => {
    const { template: custom } = synthesize({ ...DEPLOYED_CONTEXT, apiDomain: 'letters.example.org' });
    custom.hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: 'letters.example.org',
      ValidationMethod: 'DNS',
    });
  });
});

describe('secrets', () => {
  it('are one per concern, each generated once by CloudFormation, with no value written by the template', () => {
    const { tokenKey, api, githubToken } = stack.secrets;
    for (const secret of [tokenKey, api, githubToken]) {
      const properties = resource(secret).Properties;
      // A value in the template would be written again by an update of the resource, undoing
      // what the editor put there; a generated one is written only when the secret is created.
      expect(properties.SecretString).toBeUndefined();
      expect(properties.GenerateSecretString).toMatchObject({ PasswordLength: 64, ExcludePunctuation: true });
    }
    expect(resource(tokenKey).Properties.GenerateSecretString.SecretStringTemplate).toBeUndefined();
    expect(resource(api).Properties.GenerateSecretString).toMatchObject({
      SecretStringTemplate: '{}',
      GenerateStringKey: 'webhookSecret',
    });
    // No token until the editor puts one: a public blog needs none.
    expect(resource(githubToken).Properties.GenerateSecretString).toMatchObject({
      SecretStringTemplate: '{"githubToken":""}',
      GenerateStringKey: 'unused',
    });
    expect(JSON.stringify(template.toJSON())).not.toMatch(/resolve:secretsmanager|"SecretString"/);
  });

  it('keep the token key with the data (retained), under the logical id earlier deployments gave it', () => {
    const tokenKey = resource(stack.secrets.tokenKey);
    expect(tokenKey.DeletionPolicy).toBe('Retain');
    expect(id(stack.secrets.tokenKey)).toMatch(/^SecretsTokenKeySeed/);
  });

  it('are read only by the functions that use them', () => {
    const readers = (secret: Construct) =>
      (Object.keys(functions(stack)) as Array<keyof ReturnType<typeof functions>>)
        .filter((name) =>
          permissions(name).some((line) => line === `secretsmanager:GetSecretValue -> ${names[id(secret)]}`),
        )
        .sort();
    expect(readers(stack.secrets.tokenKey)).toEqual(['api', 'digest', 'dispatch', 'send', 'sesEvents']);
    expect(readers(stack.secrets.api)).toEqual(['api']);
    expect(readers(stack.secrets.githubToken)).toEqual(['ingest']);
  });
});

describe('alarms', () => {
  const alarms = () => Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((alarm) => alarm.Properties);

  it("watch every dead-letter queue and every function's errors, notifying the alarm topic", () => {
    const deadLetterQueues = alarms().filter((alarm) => alarm.MetricName === 'ApproximateNumberOfMessagesVisible');
    expect(deadLetterQueues.map((alarm) => render(alarm.Dimensions[0].Value, names)).sort()).toEqual(
      [
        `${id(stack.pipeline.ingestQueue.deadLetterQueue)}.QueueName`,
        `${id(stack.pipeline.sendQueue.deadLetterQueue)}.QueueName`,
        'dispatchDeadLetters.QueueName',
        'sesEventsDeadLetters.QueueName',
        'digestDeadLetters.QueueName',
      ].sort(),
    );
    for (const alarm of deadLetterQueues)
      expect(alarm).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    const errors = alarms().filter((alarm) => alarm.MetricName === 'Errors');
    expect(errors.map((alarm) => render(alarm.Dimensions[0].Value, names)).sort()).toEqual(
      Object.values(functions(stack))
        .map((fn) => names[id(fn)] ?? id(fn))
        .sort(),
    );
    for (const alarm of alarms()) expect(alarm.AlarmActions).toEqual([{ Ref: id(stack.alarms.topic) }]);
  });

  it('warn when SES events wait in their queue long enough to delay deciding copies in doubt', () => {
    const lag = alarms().filter((alarm) => alarm.MetricName === 'ApproximateAgeOfOldestMessage');
    expect(lag.map((alarm) => render(alarm.Dimensions[0].Value, names))).toEqual(['sesEventsQueue.QueueName']);
    // Half of the 600 s a Send event is given before its copy is sent again.
    expect(lag[0]).toMatchObject({ Threshold: 300, Statistic: 'Maximum', Period: 300 });
  });

  it("may be published by this account's alarms (the TLS-only topic policy replaces the default one)", () => {
    const publish = allStatements(template).filter(
      ({ statement }) =>
        statement.Effect === 'Allow' &&
        JSON.stringify(statement.Principal) === '{"Service":"cloudwatch.amazonaws.com"}',
    );
    const topicGrant = publish.find(({ statement }) => statement.Action === 'sns:Publish')!.statement;
    expect(render(topicGrant.Resource, names)).toBe('alarmTopic');
    expect(topicGrant.Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      ArnLike: {
        'aws:SourceArn': {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':cloudwatch:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':alarm:*',
            ],
          ],
        },
      },
    });
    // Both topics are encrypted with a key that lets SES (this account only) and CloudWatch publish.
    const keyGrants = allStatements(template)
      .filter(({ resource: where }) => template.toJSON().Resources[where].Type === 'AWS::KMS::Key')
      .filter(({ statement }) => JSON.stringify(statement.Principal).includes('amazonaws.com'));
    expect(
      keyGrants.map(({ statement }) => [JSON.stringify(statement.Principal), statement.Action, statement.Condition]),
    ).toEqual([
      [
        '{"Service":"ses.amazonaws.com"}',
        ['kms:GenerateDataKey', 'kms:Decrypt'],
        { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      ],
      ['{"Service":"cloudwatch.amazonaws.com"}', ['kms:GenerateDataKey', 'kms:Decrypt'], undefined],
    ]);
    expect(resource(stack.alarms.topic).Properties.KmsMasterKeyId).toEqual(
      resource(stack.sending.eventsTopic).Properties.KmsMasterKeyId,
    );
  });

  it('warn before SES reviews the account: bounces above 4%, complaints above 0.08%', () => {
    expect(alarms().find((alarm) => alarm.MetricName === 'Reputation.BounceRate')).toMatchObject({
      Namespace: 'AWS/SES',
      Threshold: 0.04,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(alarms().find((alarm) => alarm.MetricName === 'Reputation.ComplaintRate')).toMatchObject({
      Namespace: 'AWS/SES',
      Threshold: 0.0008,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('email the configured address, and nobody when none is configured', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.org',
      TopicArn: { Ref: id(stack.alarms.topic) },
    });
    const { template: quiet } = synthesize(cdkJson.context);
    quiet.resourcePropertiesCountIs('AWS::SNS::Subscription', { Protocol: 'email' }, 0);
    quiet.resourcePropertiesCountIs('AWS::SNS::Subscription', Match.objectLike({ Protocol: 'sqs' }), 1);
  });
});

describe('the template as a whole', () => {
  it('has no reference cycle, which CloudFormation would refuse to deploy', () => {
    const resources = template.toJSON().Resources as Record<
      string,
      { Properties?: unknown; DependsOn?: string | string[] }
    >;
    const references = (value: unknown, found: Set<string>): Set<string> => {
      if (Array.isArray(value)) for (const item of value) references(item, found);
      else if (value && typeof value === 'object') {
        const object = value as Record<string, unknown>;
        if (typeof object.Ref === 'string' && object.Ref in resources) found.add(object.Ref);
        if (Array.isArray(object['Fn::GetAtt'])) found.add(object['Fn::GetAtt'][0] as string);
        for (const item of Object.values(object)) references(item, found);
      }
      return found;
    };
    const edges = Object.fromEntries(
      Object.entries(resources).map(([name, resource]) => [
        name,
        [...references(resource.Properties, new Set([resource.DependsOn ?? []].flat()))],
      ]),
    );
    const visiting = new Set<string>();
    const done = new Set<string>();
    const cycleFrom = (name: string, path: string[]): string[] | undefined => {
      if (visiting.has(name)) return [...path, name];
      if (done.has(name)) return undefined;
      visiting.add(name);
      for (const next of edges[name] ?? []) {
        const cycle = cycleFrom(next, [...path, name]);
        if (cycle) return cycle;
      }
      visiting.delete(name);
      done.add(name);
      return undefined;
    };
    for (const name of Object.keys(resources)) expect(cycleFrom(name, [])).toBeUndefined();
  });
});
