import { randomBytes } from 'node:crypto';
import { SendEmailCommand } from '@aws-sdk/client-ses';
import {
  GetAccountCommand,
  type GetAccountCommandOutput,
  GetEmailIdentityCommand,
  type GetEmailIdentityCommandOutput,
} from '@aws-sdk/client-sesv2';
import { ListSubscriptionsByTopicCommand, type Subscription } from '@aws-sdk/client-sns';
import type { DoctorClients } from '../adapters/doctor-clients';
import { ProbeStore } from '../adapters/dynamodb/probe-store';
import type { Settings } from '../commons/config';
import { errorMessage } from '../commons/errors';
import { maskAddress } from '../commons/logger';
import { PROBE_TAG } from '../delivery/message-tags';

/**
 * The checks of `pushletter doctor --aws`: each asks AWS (or the webhook) one question about
 * the deployed stack and answers with lines of a checklist, each with what to do when it is
 * not right.
 */
export type Level = 'ok' | 'warn' | 'fail';

export interface CheckLine {
  level: Level;
  text: string;
  /** What to do, one step per entry: commands or console steps. */
  fix?: string[];
}

/** What the checks know of the deployment: its stack's outputs and the settings it runs with. */
export interface Deployment {
  stackName: string;
  region: string;
  outputs: Record<string, string>;
  settings: Settings;
  deliveriesTable: string;
}

/** The SES mailbox simulator's address that always bounces; sending to it costs no reputation. */
export const SIMULATOR_BOUNCE = 'bounce@simulator.amazonses.com';

const ok = (text: string): CheckLine => ({ level: 'ok', text });
const warn = (text: string, fix?: string[]): CheckLine => ({ level: 'warn', text, fix });
const fail = (text: string, fix?: string[]): CheckLine => ({ level: 'fail', text, fix });

function awsErrorName(error: unknown): string {
  return (error as { name?: string } | undefined)?.name ?? 'Error';
}

/** A check that could not ask AWS still gets its line, naming the call and why. */
function unanswered(what: string, error: unknown, permission: string): CheckLine {
  const name = awsErrorName(error);
  const denied = /AccessDenied|UnauthorizedOperation|AuthorizationError/.test(name);
  return fail(`${what}: could not check (${name}: ${errorMessage(error)})`, [
    denied
      ? `your credentials need ${permission}`
      : 'run the doctor again; if it persists, check your network and the AWS Health Dashboard',
  ]);
}

function logsCommand(stackName: string, logGroupId: string): string {
  return `aws logs tail "$(aws logs describe-log-groups --log-group-name-prefix ${stackName}-${logGroupId} --query 'logGroups[0].logGroupName' --output text)" --since 30m`;
}

// ─── SES identity, DKIM, MAIL FROM ────────────────────────────────────────────────────────

/**
 * The identities SES could send `fromAddress` with, most useful first: the domain and each
 * parent (a domain identity carries DKIM), then the address itself.
 */
export function identityCandidates(fromAddress: string): string[] {
  const labels = fromAddress
    .slice(fromAddress.lastIndexOf('@') + 1)
    .toLowerCase()
    .split('.');
  const domains = labels.slice(0, -1).map((_, index) => labels.slice(index).join('.'));
  return [...domains, fromAddress];
}

export interface IdentityReport {
  lines: CheckLine[];
  /** Whether SES will send from the identity; the probe is not tried otherwise. */
  verified: boolean;
}

async function findIdentity(
  deployment: Deployment,
  clients: DoctorClients,
): Promise<{ name: string; identity: GetEmailIdentityCommandOutput } | undefined> {
  for (const name of identityCandidates(deployment.settings.fromAddress)) {
    try {
      return { name, identity: await clients.sesv2.send(new GetEmailIdentityCommand({ EmailIdentity: name })) };
    } catch (error) {
      if (awsErrorName(error) !== 'NotFoundException') throw error;
    }
  }
  return undefined;
}

export async function checkIdentity(deployment: Deployment, clients: DoctorClients): Promise<IdentityReport> {
  const { fromAddress } = deployment.settings;
  const region = `--region ${deployment.region}`;
  let found: Awaited<ReturnType<typeof findIdentity>>;
  try {
    found = await findIdentity(deployment, clients);
  } catch (error) {
    return { lines: [unanswered('SES identity', error, 'ses:GetEmailIdentity')], verified: false };
  }
  if (found === undefined) {
    return {
      verified: false,
      lines: [
        fail(`SES identity: none in ${deployment.region} for ${fromAddress} or its domain`, [
          `the stack creates it: is ${deployment.region} the region you deployed to? (set AWS_REGION)`,
          'deploy again (npx cdk deploy) if the identity was deleted',
        ]),
      ],
    };
  }
  const { name, identity } = found;
  const isDomain = identity.IdentityType !== 'EMAIL_ADDRESS';
  const lines: CheckLine[] = [];
  const verified = identity.VerifiedForSendingStatus === true;
  if (verified) lines.push(ok(`SES identity ${name}: verified for sending`));
  else if (isDomain) {
    lines.push(
      fail(`SES identity ${name}: not verified for sending (${identity.VerificationStatus ?? 'status unknown'})`, [
        'SES verifies a domain through its DKIM records: add them (see the DKIM line); it checks again by itself, within 72 hours',
        `follow it with: aws sesv2 get-email-identity --email-identity ${name} ${region} --query VerifiedForSendingStatus`,
      ]),
    );
  } else {
    lines.push(
      fail(`SES identity ${name}: not verified for sending (${identity.VerificationStatus ?? 'status unknown'})`, [
        `open the link SES mailed to ${name} (subject "Amazon Web Services – Email Address Verification Request")`,
        `no mail? send it again: aws ses verify-email-identity --email-address ${name} ${region}`,
      ]),
    );
  }
  lines.push(
    isDomain
      ? dkimLine(name, identity, region)
      : warn(`DKIM: ${name} is an address identity, so mail is not signed with your domain`, [
          'set "domain" in cdk.json to your sending domain and deploy again; the stack then creates a domain identity with DKIM',
        ]),
  );
  const mailFrom = identity.MailFromAttributes;
  if (mailFrom?.MailFromDomain)
    lines.push(mailFromLine(mailFrom.MailFromDomain, mailFrom.MailFromDomainStatus, deployment.region));
  return { lines, verified };
}

function dkimLine(domain: string, identity: GetEmailIdentityCommandOutput, region: string): CheckLine {
  const dkim = identity.DkimAttributes;
  // Easy DKIM: a CNAME per token. Your own key (origin EXTERNAL): the token is its selector.
  const easyDkim = dkim?.SigningAttributesOrigin === undefined || dkim.SigningAttributesOrigin.startsWith('AWS_SES');
  const recordSteps = (dkim?.Tokens ?? []).map((token) =>
    easyDkim
      ? `add at your DNS host: ${token}._domainkey.${domain}  CNAME  ${token}.dkim.amazonses.com`
      : `publish your DKIM public key at your DNS host: ${token}._domainkey.${domain}  TXT  "p=<public key>"`,
  );
  if (dkim?.SigningEnabled === false) {
    return fail('DKIM: signing is turned off for this identity', [
      `aws sesv2 put-email-identity-dkim-attributes --email-identity ${domain} --signing-enabled ${region}`,
    ]);
  }
  switch (dkim?.Status) {
    case 'SUCCESS':
      return ok('DKIM: records found, mail is signed');
    case 'PENDING':
    case 'NOT_STARTED':
      return fail('DKIM: pending, SES has not found the records yet', [
        ...recordSteps,
        'SES looks for them by itself for up to 72 hours; DNS changes can take hours to be seen',
      ]);
    case 'TEMPORARY_FAILURE':
      return fail('DKIM: SES could not look the records up (temporary failure)', [
        ...recordSteps,
        'check that each name resolves: dig +short CNAME <name>; SES retries by itself',
      ]);
    default:
      return fail(`DKIM: ${dkim?.Status ?? 'no status'}; mail is not signed`, [
        ...recordSteps,
        `once they resolve, start verification again: SES console → Identities → ${domain} → Authentication → DKIM`,
      ]);
  }
}

function mailFromLine(domain: string, status: string | undefined, region: string): CheckLine {
  const records = [
    `add at your DNS host: ${domain}  MX  10 feedback-smtp.${region}.amazonses.com`,
    `add at your DNS host: ${domain}  TXT  "v=spf1 include:amazonses.com ~all"`,
  ];
  if (status === 'SUCCESS') return ok(`MAIL FROM ${domain}: records found, SPF aligned`);
  if (status === 'PENDING')
    return warn(
      `MAIL FROM ${domain}: pending; until SES finds the records, mail goes out with amazonses.com as MAIL FROM (SPF unaligned)`,
      records,
    );
  return fail(`MAIL FROM ${domain}: ${status ?? 'no status'}`, [
    ...records,
    'SES checks again by itself; dig +short MX <domain> shows what it sees',
  ]);
}

// ─── Account: sandbox and quota ───────────────────────────────────────────────────────────

export async function checkAccount(deployment: Deployment, clients: DoctorClients): Promise<CheckLine[]> {
  let account: GetAccountCommandOutput;
  try {
    account = await clients.sesv2.send(new GetAccountCommand({}));
  } catch (error) {
    return [unanswered('SES account', error, 'ses:GetAccount')];
  }
  const lines: CheckLine[] = [];
  const region = deployment.region;
  const review = account.Details?.ReviewDetails;
  if (account.SendingEnabled === false || account.EnforcementStatus === 'SHUTDOWN') {
    lines.push(
      fail(`SES account in ${region}: sending is paused by AWS`, [
        'read the notice in the SES console → Account dashboard, fix what it names, and answer it through AWS Support',
      ]),
    );
  } else if (account.ProductionAccessEnabled === true) {
    lines.push(
      account.EnforcementStatus === 'PROBATION'
        ? warn(`SES account in ${region}: production access, but on probation (bounce or complaint rate too high)`, [
            'SES console → Account dashboard → Reputation metrics shows which rate; fix the list before it is paused',
          ])
        : ok(`SES account in ${region}: production access`),
    );
  } else if (review?.Status === 'PENDING') {
    lines.push(
      warn(
        `SES account in ${region}: in the sandbox; production access requested${review.CaseId ? ` (case ${review.CaseId})` : ''}, waiting for AWS's answer`,
        ['until then mail goes only to verified addresses; the answer comes by email, usually within a day'],
      ),
    );
  } else {
    lines.push(
      fail(
        `SES account in ${region}: in the sandbox${review?.Status === 'DENIED' ? ' (production access was denied)' : ''}; mail goes only to verified addresses, 200 a day`,
        [
          `request production access: aws sesv2 put-account-details --region ${region} --production-access-enabled --mail-type MARKETING --website-url ${deployment.settings.siteUrl} --use-case-description "Double opt-in newsletter, one-click unsubscribe, bounces and complaints suppressed automatically"`,
          `or in the console: SES (${region}) → Account dashboard → Request production access`,
        ],
      ),
    );
  }
  const quota = account.SendQuota;
  const planned = deployment.settings.maxSendRate;
  if (quota?.MaxSendRate === undefined) {
    lines.push(warn('send quota: SES did not say'));
  } else if (quota.MaxSendRate < planned) {
    lines.push(
      fail(`send quota: SES allows ${quota.MaxSendRate}/s, the stack is deployed for maxSendRate ${planned}/s`, [
        `deploy again with the account's rate: npx cdk deploy -c maxSendRate=${quota.MaxSendRate} (senders and their timeouts are sized from it)`,
        `or ask for a higher rate: Service Quotas console (${region}) → Amazon Simple Email Service → Sending rate`,
      ]),
    );
  } else {
    lines.push(
      ok(
        `send quota: ${quota.MaxSendRate}/s and ${quota.Max24HourSend ?? '?'} a day (${quota.SentLast24Hours ?? 0} sent in the last 24 h); the stack is deployed for ${planned}/s`,
      ),
    );
  }
  return lines;
}

// ─── Webhook ──────────────────────────────────────────────────────────────────────────────

/**
 * An unsigned ping to the webhook: our function refuses it with 401 and says the signature is
 * missing. That answer proves DNS, TLS, API Gateway, the route and the function all work,
 * without anything being queued.
 */
export async function checkWebhook(deployment: Deployment, timeoutMs = 10_000): Promise<CheckLine> {
  const url = deployment.outputs.WebhookUrl;
  if (url === undefined)
    return fail('webhook: the stack has no WebhookUrl output', ['deploy the stack from this version: npx cdk deploy']);
  const apiLogs = logsCommand(deployment.stackName, 'ApiHandlerLogs');
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        'x-github-event': 'ping',
        'user-agent': 'pushletter-doctor',
      },
      body: JSON.stringify({ zen: 'pushletter doctor: an unsigned ping, to be refused' }),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason =
      awsErrorName(error) === 'TimeoutError'
        ? `no answer within ${timeoutMs / 1000} s`
        : (cause?.code ?? cause?.message ?? errorMessage(error));
    return fail(`webhook ${url}: not reachable (${reason})`, [
      'with a custom apiDomain: check its DNS record points at the API Gateway domain name (aws apigatewayv2 get-domain-names) and its certificate covers it',
      'otherwise check the WebhookUrl output is the API of this stack and your network reaches AWS',
    ]);
  }
  const body = await response.text().catch(() => '');
  // Our function answers `{ error }` or `{ error: kind, message }`; API Gateway `{ message }`.
  let error: string | undefined;
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown };
    error = [parsed.error, parsed.message].filter((part) => typeof part === 'string').join(': ') || undefined;
  } catch {
    error = undefined;
  }
  if (response.status === 401 && error !== undefined && /signature/i.test(error)) {
    return ok(`webhook ${url}: answers, and refuses an unsigned delivery`);
  }
  const answered = `webhook ${url}: the API answers ${response.status}${error ? ` "${error}"` : ''}`;
  if (response.status >= 500 || response.status === 401) {
    return fail(`${answered}, the function fails`, [
      `read the API function's log: ${apiLogs}`,
      'a secret it cannot read, or a setting it rejects at start, shows there',
    ]);
  }
  if (response.status === 404)
    return fail(`${answered}: no webhook route`, [
      'the stack is older than this CLI or the URL is wrong: deploy again (npx cdk deploy)',
    ]);
  if (response.status === 429) return warn(`${answered}: throttled`, ['run the doctor again in a minute']);
  if (response.status < 300)
    return fail(`${answered}: it accepted a delivery without a signature`, [
      'the webhook must check X-Hub-Signature-256: deploy this version again (npx cdk deploy)',
    ]);
  return fail(`${answered}, not the refusal expected`, [`read the API function's log: ${apiLogs}`]);
}

// ─── Alarm topic ──────────────────────────────────────────────────────────────────────────

export async function checkAlarmTopic(deployment: Deployment, clients: DoctorClients): Promise<CheckLine> {
  const topicArn = deployment.outputs.AlarmTopicArn;
  if (topicArn === undefined)
    return fail('alarms: the stack has no AlarmTopicArn output', [
      'deploy the stack from this version: npx cdk deploy',
    ]);
  const subscribe = `aws sns subscribe --region ${deployment.region} --topic-arn ${topicArn} --protocol email --notification-endpoint you@example.com`;
  const subscriptions: Subscription[] = [];
  try {
    let token: string | undefined;
    do {
      const page = await clients.sns.send(
        new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken: token }),
      );
      subscriptions.push(...(page.Subscriptions ?? []));
      token = page.NextToken;
    } while (token);
  } catch (error) {
    return unanswered('alarms', error, 'sns:ListSubscriptionsByTopic');
  }
  const describe = (subscription: Subscription) => {
    const endpoint = subscription.Endpoint ?? '';
    return `${subscription.Protocol ?? '?'} ${endpoint.includes('@') ? maskAddress(endpoint) : endpoint}`;
  };
  const pending = subscriptions.filter((subscription) => subscription.SubscriptionArn === 'PendingConfirmation');
  const confirmed = subscriptions.filter((subscription) => subscription.SubscriptionArn?.startsWith('arn:'));
  if (confirmed.length > 0)
    return ok(
      `alarms: ${confirmed.length} confirmed subscription${confirmed.length === 1 ? '' : 's'} (${confirmed.map(describe).join(', ')})`,
    );
  if (pending.length > 0) {
    return warn(
      `alarms: the subscription is not confirmed (${pending.map(describe).join(', ')}), so alarms reach nobody yet`,
      [
        'open the email "AWS Notification - Subscription Confirmation" and click "Confirm subscription" (look in spam too)',
        `lost it? subscribe again: ${subscribe}`,
      ],
    );
  }
  return warn('alarms: nobody subscribes to the alarm topic, so alarms go nowhere', [
    `deploy with -c alarmEmail=you@example.com, or: ${subscribe}`,
  ]);
}

// ─── Bounce probe ─────────────────────────────────────────────────────────────────────────

export interface ProbeOptions {
  waitSeconds: number;
  /** Seconds waited so far, for a progress display. */
  onWait?: (seconds: number) => void;
}

const PROBE_POLL_MS = 1_000;

/**
 * Sends one message to the mailbox simulator's bounce address through the stack's
 * configuration set, tagged with a fresh probe id, and waits until ses-events has recorded
 * its bounce: the path every reader's bounce and complaint takes.
 */
export async function checkBounceProbe(
  deployment: Deployment,
  clients: DoctorClients,
  options: ProbeOptions,
): Promise<CheckLine> {
  const { settings, stackName } = deployment;
  const probeId = randomBytes(16).toString('base64url');
  let messageId: string | undefined;
  try {
    const sent = await clients.ses.send(
      new SendEmailCommand({
        Source: settings.fromAddress,
        Destination: { ToAddresses: [SIMULATOR_BOUNCE] },
        Message: {
          Subject: { Data: 'pushletter doctor probe', Charset: 'UTF-8' },
          Body: {
            Text: {
              Data: 'Sent by `pushletter doctor --aws` to the SES mailbox simulator, to check that bounces are recorded. Nobody reads it.',
              Charset: 'UTF-8',
            },
          },
        },
        ConfigurationSetName: settings.configurationSet,
        Tags: [{ Name: PROBE_TAG, Value: probeId }],
      }),
    );
    messageId = sent.MessageId;
  } catch (error) {
    const name = awsErrorName(error);
    return fail(`bounce probe: SES refused to send it (${name}: ${errorMessage(error)})`, [
      name === 'ConfigurationSetDoesNotExist' || name === 'ConfigurationSetDoesNotExistException'
        ? `the configuration set ${settings.configurationSet ?? ''} is missing: deploy again (npx cdk deploy)`
        : /AccessDenied/.test(name)
          ? 'your credentials need ses:SendEmail on the identity and the configuration set'
          : 'fix what the identity and account lines above say, then run the doctor again',
    ]);
  }
  const probes = new ProbeStore(clients.dynamo, deployment.deliveriesTable);
  const started = Date.now();
  const deadline = started + options.waitSeconds * 1000;
  for (;;) {
    let bounce: Awaited<ReturnType<typeof probes.findBounce>>;
    try {
      bounce = await probes.findBounce(probeId);
    } catch (error) {
      return unanswered(
        `bounce probe: reading table ${deployment.deliveriesTable}`,
        error,
        'dynamodb:GetItem on the deliveries table',
      );
    }
    const seconds = Math.round((Date.now() - started) / 1000);
    if (bounce !== undefined)
      return ok(
        `bounce probe: a message to ${SIMULATOR_BOUNCE} came back as a recorded bounce (${bounce.bounceType}) after ${seconds} s`,
      );
    options.onWait?.(seconds);
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(PROBE_POLL_MS, Math.max(0, deadline - Date.now()))));
  }
  return fail(
    `bounce probe: SES accepted it (message ${messageId ?? '?'}) but no bounce was recorded within ${options.waitSeconds} s`,
    [
      `read the SesEvents function's log: ${logsCommand(stackName, 'PipelineSesEventsLogs')}`,
      'a bounce the function failed three times waits in the SES events dead-letter queue (alarm SesEventsDeadLetters): fix what the log says, then redrive it (SQS console, "Start DLQ redrive")',
      `check the configuration set still sends bounces to the events topic: aws sesv2 get-configuration-set-event-destinations --region ${deployment.region} --configuration-set-name ${settings.configurationSet ?? '<set>'}`,
      'a stack deployed before the doctor existed ignores probes: deploy again (npx cdk deploy)',
      'SES may be slow today: run again with a longer wait (--wait 180)',
    ],
  );
}
