import { PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, SNSEvent, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { readSettings } from '../../functions/commons/config';
import { encodeTagValue, POST_TAG } from '../../functions/delivery/message-tags';
import { digestWeekAt } from '../../functions/digest/digest-week';
import { matchPath } from '../../functions/http/app';
import { signPayload } from '../../functions/publishing/webhook-signature';
import { LinkSigner } from '../../functions/stats/tracked-links';
import { deriveKeys } from '../../functions/subscribers/keys';
import { storedEmails } from '../integration/delivery-harness';
import { heading } from '../integration/http-helpers';
import { pushPayload } from '../integration/webhook-harness';
import { BLOG_REPOSITORY, type DeployedStack, startDeployedStack } from './harness';
import { isAllowed } from './iam';
import type { Invocation } from './lambda-runtime';
import { ACCOUNT, REGION, type Statement } from './template';

/**
 * The deployed shape: every function's real bundle (esbuild, as `cdk synth` builds it) in a
 * fresh Node process with exactly its environment from the synthesized template, in eu-west-1,
 * its AWS calls checked against its role in the template by stand-ins reached only through
 * the SDK's AWS_ENDPOINT_URL_<SERVICE> settings. A call the role does not allow, a call signed
 * for another region, or a variable the code reads that the template does not set fails the
 * test with the function's name.
 */
let stack: DeployedStack;

/** A function process runs within its own Lambda timeout (lambda-runtime.ts); this only bounds a test of several on a loaded machine. */
const SLOW = { timeout: 180_000 };

const LONG_SLUG =
  '关于如何在一个很长很长的标题里面把所有想说的话都说完整而且还要让读者在收件箱里一眼就能看明白这封信到底讲的是什么内容的一些思考与总结';
const POSTS = {
  hello: '_posts/2026-11-20-hello-readers.md',
  chinese: `_posts/2026-11-21-${LONG_SLUG}.md`,
  future: '_posts/2099-06-01-a-letter-to-the-future.md',
  draft: '_drafts/work-in-progress.md',
};
const WELCOME = '_newsletter/welcome.md';
const READERS = {
  ada: 'ada@example.com',
  lei: 'li.lei@example.net',
  grace: 'grace@example.org',
  ben: 'ben@example.com',
};

beforeAll(async () => {
  stack = await startDeployedStack({
    '_config.yml': 'title: Example Letters\nurl: https://blog.example.org\nlang: en\ntimezone: UTC\n',
  });
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

function problems(title: string, lines: string[]): string {
  return `${title}:\n- ${lines.join('\n- ')}`;
}

/**
 * Fails with every call AWS would have refused (naming the function, the action and the
 * resource) and with any handler error.
 */
function expectAllowed(run: Invocation): void {
  if (run.refusals.length > 0) throw new Error(problems(`what AWS would refuse ${run.fn.entry}`, run.refusals));
  const errors = run.outcomes.filter((outcome) => outcome.error).map((outcome) => outcome.error!.stack);
  expect(errors, `${run.fn.entry} failed; its logs:\n${run.logs.slice(-4000)}`).toEqual([]);
}

/**
 * `expectAllowed`, and variables the code read that the template does not set: those fail the
 * test when it ends, so the outcomes a user would notice are still checked first.
 */
function expectClean(run: Invocation): void {
  if (run.unsetSettings.length > 0) {
    onTestFinished(() => {
      throw new Error(problems(`settings ${run.fn.entry} reads that the template does not set`, run.unsetSettings));
    });
  }
  expectAllowed(run);
}

/** The routes API Gateway has in the template; anything else never reaches the function. */
function routeKeys(): string[] {
  return Object.values(stack.deployment.template.Resources)
    .filter((resource) => resource.Type === 'AWS::ApiGatewayV2::Route')
    .map((resource) => String(resource.Properties?.RouteKey));
}

let requestCount = 0;
/** An API Gateway HTTP API (payload 2.0) event for a route the template defines. */
function httpEvent(
  method: string,
  target: string,
  options: { headers?: Record<string, string>; body?: string; base64?: boolean; sourceIp?: string } = {},
): APIGatewayProxyEventV2 {
  const url = new URL(target, 'https://placeholder');
  // A route with `{name}` segments matches as API Gateway matches it.
  const routeKey = routeKeys().find((key) => {
    const [routeMethod, path] = key.split(' ') as [string, string];
    return routeMethod === method && matchPath(path, url.pathname) !== undefined;
  });
  if (routeKey === undefined)
    throw new Error(`the template has no route ${method} ${url.pathname}: API Gateway would answer 404`);
  requestCount += 1;
  const host = new URL(stack.functions.api!.environment.PUSHLETTER_PUBLIC_URL!).host;
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers: { host, 'user-agent': 'Mozilla/5.0', 'x-forwarded-proto': 'https', ...options.headers },
    body:
      options.body === undefined
        ? undefined
        : options.base64
          ? Buffer.from(options.body).toString('base64')
          : options.body,
    isBase64Encoded: options.base64 ?? false,
    requestContext: {
      accountId: ACCOUNT,
      apiId: host.split('.')[0]!,
      domainName: host,
      domainPrefix: host.split('.')[0]!,
      http: {
        method,
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: options.sourceIp ?? `198.51.100.${requestCount % 250}`,
        userAgent: 'Mozilla/5.0',
      },
      requestId: `request-${requestCount}`,
      routeKey,
      stage: '$default',
      time: '03/Dec/2026:10:00:00 +0000',
      timeEpoch: Date.now(),
    },
  } as APIGatewayProxyEventV2;
}

function response(run: Invocation, index = 0): APIGatewayProxyStructuredResultV2 {
  return run.outcomes[index]!.result as APIGatewayProxyStructuredResultV2;
}

/** An SQS batch as the event source mapping delivers it. */
function sqsEvent(queueArn: string, bodies: string[]): SQSEvent {
  return {
    Records: bodies.map((body, index) => ({
      messageId: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
      receiptHandle: `receipt-${index}`,
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(Date.now()),
        SenderId: 'AROAEXAMPLE',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: REGION,
    })),
  };
}

/** The queue whose event source mapping feeds the function. */
function queueOf(entry: string): string {
  const mapping = Object.values(stack.deployment.template.Resources).find(
    (resource) =>
      resource.Type === 'AWS::Lambda::EventSourceMapping' &&
      JSON.stringify(resource.Properties?.FunctionName) === JSON.stringify({ Ref: stack.functions[entry]!.logicalId }),
  );
  if (!mapping) throw new Error(`no event source mapping feeds ${entry}`);
  return stack.deployment.resolveString(mapping.Properties!.EventSourceArn!);
}

/** The topic the configuration set publishes SES events to. */
function sesEventsTopicArn(): string {
  const topic = Object.keys(stack.deployment.template.Resources).find(
    (id) => stack.deployment.resource(id).Type === 'AWS::SNS::Topic' && id.startsWith('Ses'),
  )!;
  return stack.deployment.arnOf(topic);
}

/** An SES event as SNS puts it on a queue it is subscribed to (raw delivery off): the SNS envelope as the body. */
function snsEnvelope(notification: Record<string, unknown>): string {
  const topicArn = sesEventsTopicArn();
  return JSON.stringify({
    Type: 'Notification',
    MessageId: crypto.randomUUID(),
    TopicArn: topicArn,
    Message: JSON.stringify(notification),
    Timestamp: new Date().toISOString(),
    SignatureVersion: '1',
    Signature: 'EXAMPLE',
    SigningCertURL: `https://sns.${REGION}.amazonaws.com/SimpleNotificationService-0000.pem`,
    UnsubscribeURL: `https://sns.${REGION}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${topicArn}:1`,
  });
}

/** The statements of the queue policies the template attaches to a queue (by its URL). */
function queuePolicyStatements(queueUrl: string): QueuePolicy['PolicyDocument']['Statement'] {
  return Object.values(stack.deployment.template.Resources)
    .filter((resource) => resource.Type === 'AWS::SQS::QueuePolicy')
    .map((resource) => stack.deployment.resolve(resource.Properties!) as unknown as QueuePolicy)
    .filter((policy) => policy.Queues.includes(queueUrl))
    .flatMap((policy) => policy.PolicyDocument.Statement);
}
interface QueuePolicy {
  Queues: string[];
  PolicyDocument: { Statement: (Statement & { Principal?: unknown })[] };
}

/** An SES event as the configuration set publishes it to SNS, wrapped as SNS invokes Lambda. */
function snsEvent(notification: Record<string, unknown>): SNSEvent {
  const topicArn = sesEventsTopicArn();
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: `${topicArn}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55`,
        Sns: {
          Type: 'Notification',
          MessageId: crypto.randomUUID(),
          TopicArn: topicArn,
          Subject: '',
          Message: JSON.stringify(notification),
          Timestamp: new Date().toISOString(),
          SignatureVersion: '1',
          Signature: 'EXAMPLE',
          SigningCertUrl: `https://sns.${REGION}.amazonaws.com/SimpleNotificationService-0000.pem`,
          UnsubscribeUrl: `https://sns.${REGION}.amazonaws.com/?Action=Unsubscribe`,
          MessageAttributes: {},
        },
      },
    ],
  } as SNSEvent;
}

/** The SES notification for the copy of a post the stack sent to `address`, built from the tags that send carried. */
function sesNotification(
  eventType: 'Bounce' | 'Complaint' | 'Delivery',
  address: string,
  postId: string,
): Record<string, unknown> {
  const sent = stack.standIns.emails.find(
    (email) => email.destinations.includes(address) && email.tags[POST_TAG] === encodeTagValue(postId),
  );
  if (!sent) throw new Error(`the stack sent no copy of ${postId} to ${address}`);
  const tags: Record<string, string[]> = {
    'ses:configuration-set': [sent.configurationSet ?? ''],
    'ses:from-domain': [sent.from.split('@')[1]!],
  };
  for (const [name, value] of Object.entries(sent.tags)) tags[name] = [value];
  const mail = {
    timestamp: new Date().toISOString(),
    source: sent.from,
    sendingAccountId: ACCOUNT,
    messageId: crypto.randomUUID(),
    destination: [address],
    tags,
  };
  const at = new Date().toISOString();
  if (eventType === 'Bounce') {
    return {
      eventType,
      mail,
      bounce: {
        bounceType: 'Permanent',
        bounceSubType: 'General',
        bouncedRecipients: [
          { emailAddress: address, action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' },
        ],
        timestamp: at,
        feedbackId: crypto.randomUUID(),
      },
    };
  }
  if (eventType === 'Complaint') {
    return {
      eventType,
      mail,
      complaint: {
        complainedRecipients: [{ emailAddress: address }],
        complaintFeedbackType: 'abuse',
        timestamp: at,
        feedbackId: crypto.randomUUID(),
      },
    };
  }
  return {
    eventType,
    mail,
    delivery: {
      timestamp: at,
      recipients: [address],
      processingTimeMillis: 812,
      smtpResponse: '250 2.0.0 OK',
      reportingMTA: 'a8-62.smtp-out.amazonses.com',
    },
  };
}

async function subscriber(email: string): Promise<Record<string, any> | undefined> {
  return (await stack.items('TablesSubscribers')).find((item) => item.email === email);
}

/** A counter as `stats` reads it: summed over its scope's shards in the counters table. */
async function counter(scope: string, name: string): Promise<number> {
  return (await stack.items('TablesCounters'))
    .filter((item) => String(item.key).slice(0, String(item.key).lastIndexOf('|')) === scope)
    .reduce((sum, item) => sum + Number(item[name] ?? 0), 0);
}

async function inboxOf(address: string) {
  return (await storedEmails(stack.ses.url)).filter((email) => email.destination.to.some((to) => to.includes(address)));
}

/** The webhook secret as the api function reads it: the `webhookSecret` of a JSON secret its environment names. */
function webhookSecret(): string {
  for (const value of Object.values(stack.functions.api!.environment)) {
    const secret = stack.secretValues.get(value);
    if (secret?.startsWith('{') && typeof JSON.parse(secret).webhookSecret === 'string')
      return JSON.parse(secret).webhookSecret as string;
  }
  throw new Error('the api function is given no secret holding webhookSecret');
}

/** The post id the stack recorded for a post file (date and slug). */
async function postIdOf(postPath: string): Promise<string> {
  const slug = postPath.replace(/^_posts\/\d{4}-\d{2}-\d{2}-/, '').replace(/\.md$/, '');
  const issue = (await stack.items('TablesIssues')).find((item) => String(item.postId).endsWith(slug));
  if (!issue) throw new Error(`no issue recorded for ${postPath}`);
  return String(issue.postId);
}

/** Removes an action from every statement of a function's role policies (the statement goes when it has none left). */
function withoutGrant(entry: string, action: string) {
  const logicalId = stack.functions[entry]!.logicalId;
  const roleId = (stack.deployment.resource(logicalId).Properties!.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
  return stack.withTemplate((template) => {
    for (const resource of Object.values(template.Resources)) {
      if (resource.Type !== 'AWS::IAM::Policy' || !JSON.stringify(resource.Properties?.Roles).includes(`"${roleId}"`))
        continue;
      const document = resource.Properties!.PolicyDocument as { Statement: { Action: string | string[] }[] };
      document.Statement = document.Statement.map((statement) => ({
        ...statement,
        Action: ([] as string[]).concat(statement.Action).filter((name) => name !== action),
      })).filter((statement) => statement.Action.length > 0);
    }
  });
}

describe('the stack as deployed in eu-west-1', SLOW, () => {
  it('runs every function with its own role and settings from the template', () => {
    expect(Object.keys(stack.functions).sort()).toEqual(['api', 'digest', 'dispatch', 'ingest', 'send', 'ses-events']);
    for (const fn of Object.values(stack.functions))
      expect(fn.arn).toMatch(new RegExp(`^arn:aws:lambda:${REGION}:${ACCOUNT}:function:`));
  });

  it('api: serves the signup page', async () => {
    const run = await stack.run('api', [httpEvent('GET', '/')]);
    expectClean(run);
    expect(response(run).statusCode).toBe(200);
    expect(heading(String(response(run).body))).toBe(
      `Subscribe to ${stack.functions.api!.environment.PUSHLETTER_SITE_TITLE}`,
    );
    expect(String(response(run).body)).toContain('<form method="post" action="subscribe">');
  });

  it("api: a form signup and a JSON signup each get a confirmation email from the stack's identity; its link activates the reader", async () => {
    const form = (email: string) =>
      httpEvent('POST', '/subscribe', {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ email, website: '' }).toString(),
        base64: true,
      });
    const json = (email: string, lang: string) =>
      httpEvent('POST', '/subscribe', {
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ email, website: '', lang }),
      });
    const run = await stack.run('api', [
      form(READERS.ada),
      json(READERS.lei, 'zh-CN'),
      form(READERS.grace),
      json(READERS.ben, 'en'),
    ]);
    expectClean(run);
    expect(heading(String(response(run, 0).body))).toMatch(/inbox/i);
    expect(JSON.parse(String(response(run, 1).body))).toMatchObject({ status: 'check-inbox' });
    expect((await subscriber(READERS.ada))?.state).toBe('pending');
    const confirmations = stack.standIns.emails.filter((email) => email.caller === 'api');
    expect(confirmations.map((email) => email.destinations[0]).sort()).toEqual(Object.values(READERS).sort());
    expect(
      confirmations.every((email) => email.from === stack.functions.api!.environment.PUSHLETTER_FROM_ADDRESS),
    ).toBe(true);

    const links: string[] = [];
    for (const address of Object.values(READERS)) {
      const text = (await inboxOf(address)).at(-1)?.body.text ?? '';
      const link = /https:\/\/\S+\/confirm\?token=\S+/.exec(text)?.[0];
      expect(link, `confirmation link for ${address}`).toBeDefined();
      // Links point at the API the template deploys, whatever its address is.
      expect(new URL(link!).origin).toBe(new URL(stack.functions.api!.environment.PUSHLETTER_PUBLIC_URL!).origin);
      links.push(link!);
    }
    // The link opens a page (a mail scanner following it confirms nothing); its button posts.
    const opened = await stack.run(
      'api',
      links.map((link) => httpEvent('GET', `/confirm${new URL(link).search}`)),
    );
    expectClean(opened);
    for (const address of Object.values(READERS)) expect((await subscriber(address))?.state, address).toBe('pending');
    const confirmed = await stack.run(
      'api',
      links.map((link) => httpEvent('POST', `/confirm${new URL(link).search}`)),
    );
    expectClean(confirmed);
    for (const address of Object.values(READERS)) expect((await subscriber(address))?.state, address).toBe('active');
    // Each gets the default welcome, once, in the language they signed up in.
    const welcomes = stack.standIns.emails.filter((email) => email.caller === 'api').slice(confirmations.length);
    expect(welcomes.map((email) => email.destinations[0]).sort()).toEqual(Object.values(READERS).sort());
    expect((await inboxOf(READERS.lei)).at(-1)?.subject).toBe(
      `欢迎订阅 ${stack.functions.api!.environment.PUSHLETTER_SITE_TITLE}`,
    );
  });

  it('api: a signed push webhook puts each new post and draft on the ingest queue', async () => {
    // GitHub lists paths unquoted; git would quote the Chinese one.
    stack.blog.git('config', 'core.quotepath', 'false');
    const before = stack.blog.head();
    const commit = stack.blog.commit('Three posts and a draft', {
      write: {
        [POSTS.hello]:
          '---\ntitle: Hello, readers\nlang: en\n---\n\nThe first letter of this newsletter. [Read the blog](https://blog.example.org/).\n',
        [POSTS.chinese]:
          '---\ntitle: 一个很长的标题\nlang: zh-CN\n---\n\n这是一封很长标题的中文通讯，用来检查退信记录。\n',
        [POSTS.future]:
          '---\ntitle: A letter to the future\ndate: 2099-06-01 09:00:00\nlang: en\n---\n\nWritten today, sent on its date.\n',
        [POSTS.draft]: '---\ntitle: Work in progress\nlang: en\n---\n\nAn editor wants to see this first.\n',
        [WELCOME]: '---\ntitle: Welcome aboard\nlang: en\n---\n\nA letter **every week**, written by hand.\n',
      },
    });
    const body = JSON.stringify(pushPayload({ fullName: BLOG_REPOSITORY, before, commits: [commit] }));
    const secret = webhookSecret();
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/044aadd',
      'x-github-event': 'push',
      'x-github-delivery': crypto.randomUUID(),
      'x-hub-signature-256': signPayload(secret, body),
    };
    const run = await stack.run('api', [httpEvent('POST', '/hooks/github', { headers, body })]);
    expectClean(run);
    expect(response(run).statusCode).toBe(202);
    const queued = stack.standIns.queued.filter((message) => message.queueArn === queueOf('ingest'));
    expect(queued.map((message) => JSON.parse(message.body).path).sort()).toEqual(
      [...Object.values(POSTS), WELCOME].sort(),
    );
  });
});

describe('the pipeline as deployed, from a push to the inbox', SLOW, () => {
  it('ingest: renders each queued post, records it, starts the dispatcher or schedules a future post, and previews the draft to the editors', async () => {
    const ingestQueue = queueOf('ingest');
    const messages = stack.standIns.queued.filter((message) => message.queueArn === ingestQueue);
    expect(messages).toHaveLength(5);
    // The event source hands ingest one message per batch (batchSize 1), to one warm container.
    const run = await stack.run(
      'ingest',
      messages.map((message) => sqsEvent(ingestQueue, [message.body])),
    );
    expectClean(run);
    for (const outcome of run.outcomes) expect(outcome.result).toEqual({ batchItemFailures: [] });

    const issues = await stack.items('TablesIssues');
    const stateOf = async (post: string) => {
      const postId = await postIdOf(post);
      return issues.find((issue) => issue.postId === postId)?.state;
    };
    expect(await stateOf(POSTS.hello)).toBe('dispatching');
    expect(await stateOf(POSTS.chinese)).toBe('dispatching');
    expect(await stateOf(POSTS.future)).toBe('scheduled');
    const dispatch = stack.functions.dispatch!;
    const started = stack.standIns.invocations.filter((invocation) => invocation.caller === 'ingest');
    expect(started.map((invocation) => [invocation.functionArn, invocation.invocationType])).toEqual([
      [dispatch.arn, 'Event'],
      [dispatch.arn, 'Event'],
    ]);
    expect(stack.standIns.schedules).toHaveLength(1);
    const schedule = stack.standIns.schedules[0]!;
    expect(schedule.arn).toContain(`:schedule/${stack.functions.ingest!.environment.SCHEDULE_GROUP_NAME}/`);
    expect(schedule.request.Target.Arn).toBe(dispatch.arn);
    expect(schedule.request.ScheduleExpression).toBe('at(2099-06-01T09:00:00)');

    const previews = stack.standIns.emails.filter((email) => email.caller === 'ingest');
    expect(previews.flatMap((email) => email.destinations).sort()).toEqual([
      'editor@example.org',
      'second@example.org',
    ]);
    expect((await inboxOf('editor@example.org')).at(-1)?.subject).toMatch(/Preview.*Work in progress/);
  });

  it('dispatch: the asynchronous invocations from ingest put every active reader on the send queue', async () => {
    const payloads = stack.standIns.invocations
      .filter((invocation) => invocation.caller === 'ingest')
      .map((invocation) => JSON.parse(invocation.payload));
    const run = await stack.run('dispatch', payloads);
    expectClean(run);
    const sendQueue = queueOf('send');
    const jobs = stack.standIns.queued
      .filter((message) => message.queueArn === sendQueue)
      .map((message) => JSON.parse(message.body));
    const hello = await postIdOf(POSTS.hello);
    const chinese = await postIdOf(POSTS.chinese);
    const recipients = (postId: string) =>
      jobs.filter((job) => job.postId === postId).flatMap((job) => job.subscriberIds);
    expect(recipients(hello)).toHaveLength(4);
    expect(recipients(chinese)).toHaveLength(4);
  });

  it("dispatch: the Scheduler's invocation at the post's date, with the role the template gives the schedule, starts the future post", async () => {
    const schedule = stack.standIns.schedules[0]!;
    // Scheduler invokes the target with the schedule's role: that role must allow it.
    const roleId = Object.keys(stack.deployment.template.Resources).find(
      (id) =>
        stack.deployment.resource(id).Type === 'AWS::IAM::Role' &&
        stack.deployment.arnOf(id) === schedule.request.Target.RoleArn,
    );
    expect(roleId, "the schedule's role is a role of the stack").toBeDefined();
    const statements: Statement[] = stack.deployment.roleStatements(roleId!);
    expect(isAllowed(statements, { action: 'lambda:InvokeFunction', resource: schedule.request.Target.Arn })).toBe(
      true,
    );

    const run = await stack.run('dispatch', [JSON.parse(schedule.request.Target.Input)]);
    expectClean(run);
    const future = await postIdOf(POSTS.future);
    const jobs = stack.standIns.queued
      .filter((message) => message.queueArn === queueOf('send'))
      .map((message) => JSON.parse(message.body));
    expect(jobs.filter((job) => job.postId === future).flatMap((job) => job.subscriberIds)).toHaveLength(4);
  });

  it('send: without its write to the deliveries table, the check fails naming the function and the permission, and nothing is sent', async () => {
    const changed = withoutGrant('send', 'dynamodb:UpdateItem');
    const sendQueue = queueOf('send');
    const job = stack.standIns.queued.find((message) => message.queueArn === sendQueue)!;
    const sentBefore = stack.standIns.emails.length;
    const run = await changed.run('send', [sqsEvent(sendQueue, [job.body])]);
    const deliveries = stack.physical('TablesDeliveries');
    expect(run.refusals.join('\n')).toContain(
      `is not allowed dynamodb:UpdateItem on arn:aws:dynamodb:eu-west-1:123456789012:table/${deliveries}`,
    );
    expect(() => expectAllowed(run)).toThrow(/function send .* is not allowed dynamodb:UpdateItem/);
    expect(stack.standIns.emails.length).toBe(sentBefore);
  });

  it("send: the send queue's batches reach every active reader's inbox once per post, and each copy is recorded as sent", async () => {
    const sendQueue = queueOf('send');
    const bodies = stack.standIns.queued
      .filter((message) => message.queueArn === sendQueue)
      .map((message) => message.body);
    const run = await stack.run(
      'send',
      bodies.map((body) => sqsEvent(sendQueue, [body])),
    );
    expectClean(run);
    for (const outcome of run.outcomes) expect(outcome.result).toEqual({ batchItemFailures: [] });
    const sends = stack.standIns.emails.filter((email) => email.caller === 'send');
    for (const address of Object.values(READERS)) {
      expect(
        sends.filter((email) => email.destinations.includes(address)),
        address,
      ).toHaveLength(3);
    }
    const deliveries = (await stack.items('TablesDeliveries')).filter((item) => item.state === 'sent');
    expect(deliveries).toHaveLength(12);
    // Counted on each post with the send function's own grant on the counters table.
    const hello = await postIdOf(POSTS.hello);
    expect(await counter(`post#${hello}`, 'sent')).toBe(4);
    expect((await inboxOf(READERS.ada)).map((email) => email.subject)).toContain('Hello, readers');

    // SQS delivers at least once: the same batches again read the ledgers and records with the
    // send function's own grants, and send nobody a second copy.
    const again = await stack.run(
      'send',
      bodies.map((body) => sqsEvent(sendQueue, [body])),
    );
    expectClean(again);
    for (const outcome of again.outcomes) expect(outcome.result).toEqual({ batchItemFailures: [] });
    expect(stack.standIns.emails.filter((email) => email.caller === 'send')).toHaveLength(sends.length);
    expect(await counter(`post#${hello}`, 'sent')).toBe(4);
  });

  it('ses-events: its queue is filled by the SES events topic alone, with SNS envelopes; the function may consume it', () => {
    const queueArn = queueOf('ses-events');
    const topicArn = sesEventsTopicArn();
    const subscriptions = Object.values(stack.deployment.template.Resources)
      .filter((resource) => resource.Type === 'AWS::SNS::Subscription')
      .map((resource) => stack.deployment.resolve(resource.Properties!) as Record<string, unknown>)
      .filter((subscription) => subscription.TopicArn === topicArn);
    // One way in: the events reach the function through the queue only, each once.
    expect(subscriptions.map((subscription) => [subscription.Protocol, subscription.Endpoint])).toEqual([
      ['sqs', queueArn],
    ]);
    expect(subscriptions[0]!.RawMessageDelivery ?? false).toBe(false);

    const queueUrl = stack.deployment.ref(
      Object.keys(stack.deployment.template.Resources).find(
        (id) => stack.deployment.resource(id).Type === 'AWS::SQS::Queue' && stack.deployment.arnOf(id) === queueArn,
      )!,
    );
    const policy = queuePolicyStatements(queueUrl).filter((statement) =>
      ['"*"', '{"AWS":"*"}', '{"Service":"sns.amazonaws.com"}'].includes(JSON.stringify(statement.Principal)),
    );
    const snsSends = (sourceArn: string, secure = 'true') =>
      isAllowed(policy, {
        action: 'sqs:SendMessage',
        resource: queueArn,
        context: { 'aws:SourceArn': sourceArn, 'aws:SecureTransport': secure },
      });
    expect(snsSends(topicArn)).toBe(true);
    expect(snsSends(`arn:aws:sns:${REGION}:${ACCOUNT}:someone-elses-topic`)).toBe(false);
    expect(snsSends(topicArn, 'false')).toBe(false);

    // The event source mapping polls with the function's own role.
    for (const action of [
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:ChangeMessageVisibility',
      'sqs:GetQueueAttributes',
    ])
      expect(isAllowed(stack.functions['ses-events']!.statements, { action, resource: queueArn }), action).toBe(true);
  });

  it('ses-events: one batch from its queue suppresses a bounced and a complaining reader, counts each event once (a bounce SNS delivered twice too), and again as nothing new when SQS delivers it again', async () => {
    const hello = await postIdOf(POSTS.hello);
    const queue = queueOf('ses-events');
    const bounce = snsEnvelope(sesNotification('Bounce', READERS.grace, hello));
    const batch = sqsEvent(queue, [
      snsEnvelope(sesNotification('Delivery', READERS.ada, hello)),
      bounce,
      snsEnvelope(sesNotification('Complaint', READERS.ben, hello)),
      // SNS delivers at least once: the same notification again, in the same batch.
      bounce,
    ]);
    const run = await stack.run('ses-events', [batch]);
    expectClean(run);
    expect(run.outcomes[0]!.result).toEqual({ batchItemFailures: [] });
    expect((await subscriber(READERS.ada))?.state).toBe('active');
    expect((await subscriber(READERS.grace))?.state).toBe('bounced');
    expect((await subscriber(READERS.ben))?.state).toBe('complained');
    // Each counted on the post, with the function's own grant on the counters table.
    const counts = { delivered: 1, 'bounced.permanent': 1, complained: 1 };
    for (const [name, count] of Object.entries(counts)) expect(await counter(`post#${hello}`, name), name).toBe(count);

    const again = await stack.run('ses-events', [batch]);
    expectClean(again);
    expect(again.outcomes[0]!.result).toEqual({ batchItemFailures: [] });
    for (const [name, count] of Object.entries(counts)) expect(await counter(`post#${hello}`, name), name).toBe(count);
  });

  it('ses-events: still takes an SNS event directly (as Lambda retries one from before the queue): a bounce of a post whose long Chinese slug is hashed in its SES tag suppresses the reader and is recorded on the post', async () => {
    const chinese = await postIdOf(POSTS.chinese);
    expect(encodeTagValue(chinese)).toMatch(/^h_/);
    const run = await stack.run('ses-events', [snsEvent(sesNotification('Bounce', READERS.lei, chinese))]);
    expectClean(run);
    expect((await subscriber(READERS.lei))?.state).toBe('bounced');
    const lei = (await subscriber(READERS.lei))!;
    const delivery = (await stack.items('TablesDeliveries')).find(
      (item) => item.postId === chinese && item.subscriberId === lei.id,
    );
    expect(delivery?.feedback ?? delivery?.bounce ?? delivery?.state).toBeDefined();
  });

  it('api: the one-click unsubscribe link of a sent post unsubscribes, and its page alone changes nothing', async () => {
    const text = (await inboxOf(READERS.ada)).find((email) => email.subject === 'Hello, readers')?.body.text ?? '';
    const link = /https:\/\/\S+\/unsubscribe\?token=[\w.-]+&post=[\w-]+/.exec(text)?.[0];
    expect(link, 'unsubscribe link in the post, naming the post').toBeDefined();
    const query = new URL(link!).search;
    const reference = new URL(link!).searchParams.get('post');
    const page = await stack.run('api', [httpEvent('GET', `/unsubscribe${query}`)]);
    expectClean(page);
    expect((await subscriber(READERS.ada))?.state).toBe('active');
    const oneClick = await stack.run('api', [
      httpEvent('POST', `/unsubscribe${query}`, {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      }),
    ]);
    expectClean(oneClick);
    expect(response(oneClick).statusCode).toBe(200);
    expect((await subscriber(READERS.ada))?.state).toBe('unsubscribed');
    expect(await counter(`postref#${reference}`, 'unsubscribed')).toBe(1);
  });
});

describe('aggregate tracking as deployed', SLOW, () => {
  it("api: a post's signed redirect link reads the post's link list and answers 302 to it; a forged one 404", async () => {
    // A post recorded with its link list, as ingest writes it with tracking aggregate.
    const postId = '2026-11-23-tracked';
    const links = ['https://blog.example.org/2026/11/23/tracked.html', 'https://example.org/%E8%AF%BB/?q=1#a'];
    await stack.dynamo.send(
      new PutItemCommand({
        TableName: stack.physical('TablesIssues'),
        Item: marshall({ postId, title: 'Tracked', subject: 'Tracked', state: 'dispatched', links }),
      }),
    );
    const tokenKey = stack.secretValues.get(stack.functions.api!.environment.PUSHLETTER_TOKEN_KEY_SECRET_ARN!)!;
    const signer = new LinkSigner(deriveKeys(Buffer.from(tokenKey, 'base64')).linkKey);
    const run = await stack.run('api', [
      httpEvent('GET', `/r/${postId}/1.${signer.click(postId, 1)}`),
      httpEvent('GET', `/r/${postId}/1.${signer.click(postId, 0)}`),
      // A link scanner's HEAD reaches the function through its own route, as it does locally.
      httpEvent('HEAD', `/r/${postId}/1.${signer.click(postId, 1)}`),
    ]);
    expectClean(run);
    expect(response(run, 0)).toMatchObject({ statusCode: 302, headers: { location: links[1] } });
    expect(response(run, 1).statusCode).toBe(404);
    expect(response(run, 2)).toMatchObject({ statusCode: 302, headers: { location: links[1] }, body: '' });
  });
});

describe('the weekly digest as deployed', SLOW, () => {
  it("digest: the schedule's invocation builds the week's digest for its readers; dispatch and send deliver it once", async () => {
    // A reader who takes the weekly digest: signed up and confirmed through the API, the
    // frequency stored as the preferences page stores it.
    const dora = 'dora@example.com';
    const signup = await stack.run('api', [
      httpEvent('POST', '/subscribe', {
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ email: dora, website: '', lang: 'en' }),
      }),
    ]);
    expectClean(signup);
    const link = /https:\/\/\S+\/confirm\?token=\S+/.exec((await inboxOf(dora)).at(-1)?.body.text ?? '')![0];
    expectClean(await stack.run('api', [httpEvent('POST', `/confirm${new URL(link).search}`)]));
    const reader = (await subscriber(dora))!;
    expect(reader.state).toBe('active');
    const update = (table: string, key: Record<string, string>, set: Record<string, string>) =>
      stack.dynamo.send(
        new UpdateItemCommand({
          TableName: stack.physical(table),
          Key: marshall(key),
          UpdateExpression: `SET ${Object.keys(set)
            .map((name) => `#${name} = :${name}`)
            .join(', ')}`,
          ExpressionAttributeNames: Object.fromEntries(Object.keys(set).map((name) => [`#${name}`, name])),
          ExpressionAttributeValues: marshall(Object.fromEntries(Object.entries(set).map(([k, v]) => [`:${k}`, v]))),
        }),
      );
    await update('TablesSubscribers', { id: reader.id }, { frequency: 'digest' });
    // The two posts the pipeline sent went out in the week the digest due now covers.
    const week = digestWeekAt(new Date(), readSettings(stack.functions.digest!.environment).digest);
    const sentAt = new Date(week.since.getTime() + 3_600_000).toISOString();
    for (const post of [POSTS.hello, POSTS.chinese])
      await update('TablesIssues', { postId: await postIdOf(post) }, { sendAt: sentAt });

    // The recurring schedule invokes the digest function with its own role.
    const schedules = Object.values(stack.deployment.template.Resources).filter(
      (resource) => resource.Type === 'AWS::Scheduler::Schedule',
    );
    expect(schedules).toHaveLength(1);
    const target = schedules[0]!.Properties!.Target as { Arn: unknown; RoleArn: unknown; Input: string };
    const digestFunction = stack.functions.digest!;
    expect(stack.deployment.resolveString(target.Arn as never)).toBe(digestFunction.arn);
    const roleId = Object.keys(stack.deployment.template.Resources).find(
      (id) =>
        stack.deployment.resource(id).Type === 'AWS::IAM::Role' &&
        stack.deployment.arnOf(id) === stack.deployment.resolveString(target.RoleArn as never),
    )!;
    expect(
      isAllowed(stack.deployment.roleStatements(roleId), {
        action: 'lambda:InvokeFunction',
        resource: digestFunction.arn,
      }),
    ).toBe(true);
    const run = await stack.run('digest', [JSON.parse(target.Input)]);
    expectClean(run);
    expect(run.outcomes[0]!.result).toMatchObject({ status: 'started', digestId: week.id, posts: 2, readers: 1 });

    // It starts the dispatcher as ingest does; the dispatcher queues the reader with their variant.
    const started = stack.standIns.invocations.filter((invocation) => invocation.caller === 'digest');
    expect(started.map((invocation) => invocation.functionArn)).toEqual([stack.functions.dispatch!.arn]);
    const dispatched = await stack.run(
      'dispatch',
      started.map((invocation) => JSON.parse(invocation.payload)),
    );
    expectClean(dispatched);
    const sendQueue = queueOf('send');
    const bodies = stack.standIns.queued
      .filter((message) => message.queueArn === sendQueue && JSON.parse(message.body).postId === week.id)
      .map((message) => message.body);
    expect(bodies.map((body) => JSON.parse(body).subscriberIds)).toEqual([[reader.id]]);
    const sent = await stack.run(
      'send',
      bodies.map((body) => sqsEvent(sendQueue, [body])),
    );
    expectClean(sent);
    const digests = (await inboxOf(dora)).filter((email) => email.subject.startsWith('This week on'));
    expect(digests).toHaveLength(1);
    expect(digests[0]!.body.text).toContain('Hello, readers');
    expect(digests[0]!.body.text).toContain('一个很长的标题');
    expect(digests[0]!.body.text).toMatch(/Unsubscribe: https:\/\/\S+\/unsubscribe\?token=/);

    // A retry of the schedule's invoke finds the week's digest and sends nothing again.
    const again = await stack.run('digest', [JSON.parse(target.Input)]);
    expectClean(again);
    expect(again.outcomes[0]!.result).toMatchObject({ status: 'exists', digestId: week.id });
    expect((await inboxOf(dora)).filter((email) => email.subject.startsWith('This week on'))).toHaveLength(1);
  });
});

describe('the check itself', SLOW, () => {
  it("api: a reader confirming after the push gets the blog's own welcome, read by ingest at the pushed commit; the schedule's run is allowed", async () => {
    const reader = 'new.reader@example.com';
    const signup = await stack.run('api', [
      httpEvent('POST', '/subscribe', {
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ email: reader, website: '' }),
      }),
    ]);
    expectClean(signup);
    const link = /https:\/\/\S+\/confirm\?token=\S+/.exec((await inboxOf(reader)).at(-1)?.body.text ?? '')?.[0];
    const confirmed = await stack.run('api', [httpEvent('POST', `/confirm${new URL(link!).search}`)]);
    expectClean(confirmed);
    const welcome = (await inboxOf(reader)).at(-1);
    expect(welcome?.subject).toBe('Welcome aboard');
    expect(welcome?.body.html).toContain('<strong>every week</strong>');
    // What EventBridge invokes every 5 minutes: waiting confirmations, reminders, welcomes.
    const scheduled = await stack.run('api', [{ 'detail-type': 'Scheduled Event' } as never]);
    expectClean(scheduled);
    expect(scheduled.outcomes[0]!.result).toEqual({ sent: 0, welcomes: 0, reminders: 0 });
  });

  it('fails naming the function, the action and the resource when the api loses ses:SendRawEmail', async () => {
    const changed = withoutGrant('api', 'ses:SendRawEmail');
    const event = httpEvent('POST', '/subscribe', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'carol@example.com', website: '' }),
    });
    const run = await changed.run('api', [event]);
    expect(run.refusals.join('\n')).toMatch(
      /^function api \(Pushletter-ApiHandler[\w-]+\) is not allowed ses:SendRawEmail on arn:aws:ses:eu-west-1:123456789012:identity\/example\.org/m,
    );
    expect(() => expectAllowed(run)).toThrow(/function api .* is not allowed ses:SendRawEmail/);
  });

  it('fails naming a setting the code reads that the template does not give the function', async () => {
    const run = await stack.run('api', [httpEvent('GET', '/')], { withoutVariables: ['PUSHLETTER_FROM_ADDRESS'] });
    expect(run.unsetSettings.join('\n')).toMatch(
      /function api \(.+\) reads PUSHLETTER_FROM_ADDRESS \(functions\/commons\/config\.ts:\d+, in read\(\)\) but the template does not set it/,
    );
  });
});
