import { GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { PROBE_PARTITION } from '../../functions/adapters/dynamodb/probe-store';
import { PROBE_TAG } from '../../functions/delivery/message-tags';
import { CONFIGURATION_SET, DOMAIN, doctor, FROM_ADDRESS, REGION, STACK, useDoctorWorld } from './doctor-harness';

const running = useDoctorWorld();
/** A subscriber who typed the simulator's address into the form: a probe's bounce must not touch them. */
let simulatorSubscriberId: string;

beforeAll(async () => {
  simulatorSubscriberId = (
    await running.world.subscribers.createIfAbsent({
      email: 'bounce@simulator.amazonses.com',
      state: 'active',
      consent: { at: new Date().toISOString(), source: 'form' },
    })
  ).id;
});

/** The checklist line that starts with `label` after its level, with the fix lines under it. */
function line(out: string, level: 'ok' | 'warn' | 'FAIL', label: string): string {
  const lines = out.split('\n');
  const index = lines.findIndex((text) => text.startsWith(`  ${level.padEnd(4)}  ${label}`));
  if (index < 0) throw new Error(`no "${level} ${label}" line in:\n${out}`);
  const fixes: string[] = [];
  for (let next = index + 1; next < lines.length && lines[next]!.startsWith('        → '); next++)
    fixes.push(lines[next]!);
  return [lines[index], ...fixes].join('\n');
}

function identity(changes: Record<string, unknown>): void {
  const current = running.aws.state.identities.get(DOMAIN)!;
  running.aws.state.identities.set(DOMAIN, { ...current, ...changes });
}

describe('pushletter doctor --aws on a healthy deployment', () => {
  it('passes every check, and the probe bounce is recorded by ses-events without touching any subscriber', async () => {
    // Well inside the test's time limit, so a bounce that never comes fails with the doctor's own line.
    const { code, out } = await doctor('--aws', '--wait', '20');
    expect(out.split('\n')[0]).toBe(`pushletter doctor: stack ${STACK} in ${REGION}`);
    expect(line(out, 'ok', `SES identity ${DOMAIN}: verified for sending`)).toBeTruthy();
    expect(line(out, 'ok', 'DKIM: records found')).toBeTruthy();
    expect(line(out, 'ok', `MAIL FROM mail.${DOMAIN}: records found`)).toBeTruthy();
    expect(line(out, 'ok', `SES account in ${REGION}: production access`)).toBeTruthy();
    expect(line(out, 'ok', 'send quota: 50/s and 50000 a day')).toBeTruthy();
    expect(
      line(out, 'ok', `webhook ${running.world.webhookUrl}: answers, and refuses an unsigned delivery`),
    ).toBeTruthy();
    expect(line(out, 'ok', 'alarms: 1 confirmed subscription (email o***@example.org)')).toBeTruthy();
    expect(
      line(
        out,
        'ok',
        'bounce probe: a message to bounce@simulator.amazonses.com came back as a recorded bounce (Permanent)',
      ),
    ).toBeTruthy();
    expect(out).not.toMatch(/^ {2}(warn|FAIL) /m);
    expect(out.trim().split('\n').at(-1)).toBe('8 ok, 0 warnings, 0 failed: all good');
    expect(code).toBe(0);

    // One probe, from the stack's sender, through its configuration set, tagged for ses-events.
    expect(running.aws.state.sent).toHaveLength(1);
    const probe = running.aws.state.sent[0]!;
    expect(probe.get('Source')).toBe(FROM_ADDRESS);
    expect(probe.get('ConfigurationSetName')).toBe(CONFIGURATION_SET);
    expect(probe.get('Tags.member.1.Name')).toBe(PROBE_TAG);
    const probeId = probe.get('Tags.member.1.Value')!;
    const item = await running.world.dynamo.client.send(
      new GetItemCommand({
        TableName: running.world.deliveriesTable,
        Key: marshall({ postId: PROBE_PARTITION, subscriberId: probeId }),
      }),
    );
    expect(item.Item?.bounceType?.S).toBe('Permanent');
    // The record expires by the table's TTL rather than piling up.
    expect(Number(item.Item?.expiresAt?.N)).toBeGreaterThan(Date.now() / 1000);

    // Nothing suppressed or counted: the subscriber at the simulator's address stays active, and
    // no delivery of any post gained a bounce.
    expect((await running.world.subscribers.get(simulatorSubscriberId))?.state).toBe('active');
    const probeItems = await running.world.dynamo.client.send(
      new QueryCommand({
        TableName: running.world.deliveriesTable,
        KeyConditionExpression: 'postId = :p',
        ExpressionAttributeValues: marshall({ ':p': PROBE_PARTITION }),
      }),
    );
    expect(probeItems.Count).toBeGreaterThanOrEqual(1);
    // Output names no secret: the webhook secret is never read, the alarm address is masked.
    expect(out).not.toContain('ops@example.org');
    expect(out).not.toContain('doctor-test-webhook-secret');
  });
});

describe('pushletter doctor --aws names each problem and what to do', () => {
  it('an address identity that is not verified: FAIL with the verification step, and no probe is sent', async () => {
    running.aws.state.identities = new Map([
      [FROM_ADDRESS, { IdentityType: 'EMAIL_ADDRESS', VerifiedForSendingStatus: false, VerificationStatus: 'PENDING' }],
    ]);
    const { code, out } = await doctor('--aws');
    const failure = line(out, 'FAIL', `SES identity ${FROM_ADDRESS}: not verified for sending (PENDING)`);
    expect(failure).toContain(`open the link SES mailed to ${FROM_ADDRESS}`);
    expect(failure).toContain(`aws ses verify-email-identity --email-address ${FROM_ADDRESS} --region ${REGION}`);
    expect(line(out, 'warn', `DKIM: ${FROM_ADDRESS} is an address identity`)).toContain('set "domain" in cdk.json');
    expect(line(out, 'warn', 'bounce probe: not sent')).toBeTruthy();
    expect(running.aws.state.calls).not.toContain('ses:SendEmail');
    expect(out.trim().split('\n').at(-1)).toMatch(/, 1 failed: fix the FAIL lines/);
    expect(code).toBe(1);
  });

  it('DKIM pending: FAIL with the three CNAME records to add', async () => {
    identity({
      VerifiedForSendingStatus: false,
      VerificationStatus: 'PENDING',
      DkimAttributes: {
        SigningEnabled: true,
        Status: 'PENDING',
        Tokens: ['tokenone', 'tokentwo', 'tokenthree'],
        SigningAttributesOrigin: 'AWS_SES',
      },
    });
    const { code, out } = await doctor('--aws');
    expect(line(out, 'FAIL', `SES identity ${DOMAIN}: not verified`)).toContain('add them (see the DKIM line)');
    const dkim = line(out, 'FAIL', 'DKIM: pending');
    for (const token of ['tokenone', 'tokentwo', 'tokenthree']) {
      expect(dkim).toContain(`add at your DNS host: ${token}._domainkey.${DOMAIN}  CNAME  ${token}.dkim.amazonses.com`);
    }
    expect(code).toBe(1);
  });

  it('a MAIL FROM domain SES has not found yet: warn with its MX and SPF records', async () => {
    identity({
      MailFromAttributes: {
        MailFromDomain: `mail.${DOMAIN}`,
        MailFromDomainStatus: 'PENDING',
        BehaviorOnMxFailure: 'USE_DEFAULT_VALUE',
      },
    });
    const { code, out } = await doctor('--aws');
    const mailFrom = line(out, 'warn', `MAIL FROM mail.${DOMAIN}: pending`);
    expect(mailFrom).toContain(`mail.${DOMAIN}  MX  10 feedback-smtp.${REGION}.amazonses.com`);
    expect(mailFrom).toContain(`mail.${DOMAIN}  TXT  "v=spf1 include:amazonses.com ~all"`);
    expect(code).toBe(0);
  });

  it('the sandbox: FAIL with the request for production access, and a quota below maxSendRate', async () => {
    running.aws.state.account = {
      ProductionAccessEnabled: false,
      SendingEnabled: true,
      EnforcementStatus: 'HEALTHY',
      SendQuota: { Max24HourSend: 200, MaxSendRate: 1, SentLast24Hours: 0 },
    };
    const { code, out } = await doctor('--aws');
    const sandbox = line(out, 'FAIL', `SES account in ${REGION}: in the sandbox`);
    expect(sandbox).toContain(`aws sesv2 put-account-details --region ${REGION} --production-access-enabled`);
    expect(sandbox).toContain('Request production access');
    expect(line(out, 'FAIL', 'send quota: SES allows 1/s, the stack is deployed for maxSendRate 50/s')).toContain(
      'npx cdk deploy -c maxSendRate=1',
    );
    expect(code).toBe(1);
  });

  it('production access with a quota below maxSendRate: FAIL with the redeploy and the quota request', async () => {
    running.aws.state.account = {
      ...running.aws.state.account,
      SendQuota: { Max24HourSend: 50000, MaxSendRate: 14, SentLast24Hours: 0 },
    };
    const { code, out } = await doctor('--aws');
    expect(line(out, 'ok', `SES account in ${REGION}: production access`)).toBeTruthy();
    const quota = line(out, 'FAIL', 'send quota: SES allows 14/s, the stack is deployed for maxSendRate 50/s');
    expect(quota).toContain('npx cdk deploy -c maxSendRate=14');
    expect(quota).toContain('Service Quotas');
    expect(code).toBe(1);
  });

  it('a webhook nobody answers: FAIL "not reachable"', async () => {
    running.aws.state.stacks.set(STACK, running.world.outputs(running.world.unreachableWebhookUrl));
    const { code, out } = await doctor('--aws');
    expect(line(out, 'FAIL', `webhook ${running.world.unreachableWebhookUrl}: not reachable (ECONNREFUSED)`)).toContain(
      'apiDomain',
    );
    expect(code).toBe(1);
  });

  it('a webhook whose function fails: FAIL "the API answers 500 … the function fails" with where its log is', async () => {
    running.aws.state.stacks.set(STACK, running.world.outputs(running.world.failingWebhookUrl));
    const { code, out } = await doctor('--aws');
    const failure = line(out, 'FAIL', `webhook ${running.world.failingWebhookUrl}: the API answers 500`);
    expect(failure).toContain('the function fails');
    expect(failure).toContain(`aws logs describe-log-groups --log-group-name-prefix ${STACK}-ApiHandlerLogs`);
    expect(code).toBe(1);
  });

  it('an alarm subscription not confirmed yet, or none: a warning saying what to do', async () => {
    running.aws.state.alarmSubscriptions = [
      { Protocol: 'email', Endpoint: 'ops@example.org', SubscriptionArn: 'PendingConfirmation' },
    ];
    let result = await doctor('--aws');
    const pending = line(result.out, 'warn', 'alarms: the subscription is not confirmed (email o***@example.org)');
    expect(pending).toContain('Confirm subscription');
    expect(pending).toContain('aws sns subscribe');
    // Warnings alone do not fail the run.
    expect(result.out.trim().split('\n').at(-1)).toBe('7 ok, 1 warning, 0 failed: working; see the warnings');
    expect(result.code).toBe(0);

    running.aws.state.alarmSubscriptions = [];
    result = await doctor('--aws');
    expect(line(result.out, 'warn', 'alarms: nobody subscribes to the alarm topic, so alarms go nowhere')).toContain(
      '-c alarmEmail=',
    );
  });

  it('a bounce that never comes back: FAIL after the --wait limit, with progress lines while waiting in CI', async () => {
    running.aws.state.deliverBounces = false;
    // Off a terminal progress prints only in CI (functions/cli/progress.ts): a deploy pipeline's log.
    vi.stubEnv('CI', 'true');
    const { code, out, err } = await doctor('--aws', '--wait', '1').finally(() => vi.unstubAllEnvs());
    const failure = line(out, 'FAIL', 'bounce probe: SES accepted it (message 0100018c');
    expect(failure).toContain('no bounce was recorded within 1 s');
    expect(failure).toContain(`--log-group-name-prefix ${STACK}-PipelineSesEventsLogs`);
    expect(failure).toContain(`--configuration-set-name ${CONFIGURATION_SET}`);
    expect(err).toContain("seconds waited for the probe's bounce");
    expect(code).toBe(1);
  });
});
