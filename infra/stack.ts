import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type { Construct } from 'constructs';
import { type DeployConfig, settingsEnvironment, shellExports, siteOrigin } from './config';
import { Alarms } from './constructs/alarms';
import { Api } from './constructs/api';
import { Dashboard } from './constructs/dashboard';
import { PIPELINE_ENVIRONMENT, Pipeline } from './constructs/pipeline';
import { SECRET_ENVIRONMENT, Secrets } from './constructs/secrets';
import { Sending } from './constructs/ses';
import { TABLE_ENVIRONMENT, Tables } from './constructs/tables';
import { TopicKey } from './constructs/topic-key';

export interface PushletterStackProps extends StackProps {
  config: DeployConfig;
}

/** The whole newsletter in one stack; each concern is a construct under infra/constructs/. */
export class PushletterStack extends Stack {
  readonly tables: Tables;
  readonly secrets: Secrets;
  readonly sending: Sending;
  readonly api: Api;
  readonly pipeline: Pipeline;
  readonly alarms: Alarms;
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: PushletterStackProps) {
    super(scope, id, props);
    const { config } = props;
    const topicKey = new TopicKey(this, 'TopicKey').key;

    this.tables = new Tables(this, 'Tables');
    this.secrets = new Secrets(this, 'Secrets');
    this.sending = new Sending(this, 'Ses', { config, topicKey });
    const settingsFor = (publicUrl: string) =>
      settingsEnvironment(config, { publicUrl, configurationSet: this.sending.configurationSet.configurationSetName });

    this.api = new Api(this, 'Api', {
      siteOrigin: siteOrigin(config),
      environment: settingsFor,
      domain: config.apiDomain ? { name: config.apiDomain, certificateArn: config.apiCertificateArn } : undefined,
    });
    const settings = settingsFor(this.api.url);
    this.pipeline = new Pipeline(this, 'Pipeline', {
      config,
      tables: this.tables,
      secrets: this.secrets,
      sending: this.sending,
      settings,
    });

    // The API function: signups and unsubscribes, confirmation emails, and the webhook, which
    // only verifies the signature and hands the push to the ingest queue.
    const apiHandler = this.api.handler;
    // Subscribe, confirm and unsubscribe are conditional updates and reads of one subscriber.
    this.tables.bind(apiHandler, 'subscribers', { items: ['GetItem', 'UpdateItem'] });
    // Signup limits: sliding windows and hourly counters, the line of waiting confirmations, and
    // the welcome emails and reminders due (follow-ups).
    this.tables.bind(apiHandler, 'limits', { items: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query'] });
    // Counts signups, confirmations and unsubscribes (per day, and per post for an email's link).
    this.tables.bind(apiHandler, 'counters', { items: ['UpdateItem'] });
    // Confirmations held back by the hourly cap go out when the hour allows; due reminders and
    // welcomes a confirming request could not send go out too.
    new events.Rule(this, 'WaitingConfirmations', {
      description: 'pushletter: send waiting confirmations, reminders and welcome emails',
      schedule: events.Schedule.rate(Duration.minutes(5)),
      targets: [new targets.LambdaFunction(apiHandler, { retryAttempts: 0 })],
    });
    // The click redirect reads a post's link list (aggregate tracking, README "Tracking"), and
    // confirming reads the blog's welcome email, stored there by ingest.
    this.tables.bind(apiHandler, 'issues', { items: ['GetItem'] });
    this.secrets.bind(apiHandler, 'tokenKey');
    this.secrets.bind(apiHandler, 'api');
    this.sending.grantSend(apiHandler);
    this.pipeline.ingestQueue.bindProducer(apiHandler, PIPELINE_ENVIRONMENT.ingestQueue);

    this.alarms = new Alarms(this, 'Alarms', { topicKey, alarmEmail: config.alarmEmail });
    this.alarms.deadLetters('IngestDeadLetters', this.pipeline.ingestQueue.deadLetterQueue, 'A pushed post');
    this.alarms.deadLetters('SendDeadLetters', this.pipeline.sendQueue.deadLetterQueue, 'A batch of recipients');
    this.alarms.deadLetters('DispatchDeadLetters', this.pipeline.dispatchDeadLetters, 'A dispatch of a post');
    this.alarms.deadLetters(
      'SesEventsDeadLetters',
      this.pipeline.sesEventsQueue.deadLetterQueue,
      'An SES send, delivery, bounce or complaint event',
    );
    this.alarms.deadLetters('DigestDeadLetters', this.pipeline.digestDeadLetters, "A week's digest");
    // A copy in doubt is sent again once it has waited resendAfterSeconds (sender life + 600 s)
    // without its Send event: events held back half of those 600 s warn well before that.
    this.alarms.queueLag(
      'SesEventsLag',
      this.pipeline.sesEventsQueue.queue,
      Duration.minutes(5),
      "SES events waited more than 5 minutes for ses-events (copies in doubt are sent again once their Send event is 10 minutes late): read the function's errors and throttles, raise its concurrency cap",
    );
    const functions = {
      Api: apiHandler,
      Ingest: this.pipeline.ingest,
      Dispatch: this.pipeline.dispatch,
      Send: this.pipeline.send,
      SesEvents: this.pipeline.sesEvents,
      Digest: this.pipeline.digest,
    };
    for (const [name, fn] of Object.entries(functions))
      this.alarms.functionErrors(`${name}Errors`, fn, `The ${name} function`);
    this.dashboard = new Dashboard(this, 'Dashboard', { alarms: this.alarms.all });

    new CfnOutput(this, 'FormUrl', {
      value: `${this.api.url}/`,
      description: 'The signup page; the form snippet posts to FormUrl + "subscribe"',
    });
    new CfnOutput(this, 'WebhookUrl', {
      value: `${this.api.url}/hooks/github`,
      description: 'Payload URL of the GitHub webhook (content type application/json)',
    });
    new CfnOutput(this, 'UnsubscribeBaseUrl', {
      value: `${this.api.url}/unsubscribe`,
      description: 'Base of the unsubscribe links in every email',
    });
    new CfnOutput(this, 'ApiSecretArn', {
      value: this.secrets.api.secretArn,
      description: 'JSON secret of the API function: read webhookSecret from it for the GitHub webhook',
    });
    new CfnOutput(this, 'GitHubTokenSecretArn', {
      value: this.secrets.githubToken.secretArn,
      description: 'JSON secret of the ingest function: put {"githubToken": "…"} in it for a private blog repository',
    });
    new CfnOutput(this, 'TokenKeySecretArn', {
      value: this.secrets.tokenKey.secretArn,
      description:
        'The key that signs confirmation and unsubscribe links: never change it, or every delivered link breaks',
    });
    if (this.api.domainName) {
      new CfnOutput(this, 'ApiDomainTarget', {
        value: this.api.domainName.regionalDomainName,
        description: `DNS: a CNAME record ${config.apiDomain} -> this value (or a Route 53 alias to it, in zone ApiDomainHostedZoneId)`,
      });
      new CfnOutput(this, 'ApiDomainHostedZoneId', {
        value: this.api.domainName.regionalHostedZoneId,
        description: 'Hosted zone of ApiDomainTarget, for a Route 53 alias record',
      });
    }
    this.emailAuthenticationOutputs(config);
    // What the CLI needs to act on the deployed stack (`npx pushletter subscribers count --aws`).
    new CfnOutput(this, 'PublicUrl', {
      value: this.api.url,
      description: 'PUSHLETTER_PUBLIC_URL for the CLI: base of confirmation and unsubscribe links',
    });
    new CfnOutput(this, 'SubscribersTable', {
      value: this.tables.subscribers.tableName,
      description: 'SUBSCRIBERS_TABLE for the CLI',
    });
    new CfnOutput(this, 'IssuesTable', {
      value: this.tables.issues.tableName,
      description: 'ISSUES_TABLE for the CLI',
    });
    new CfnOutput(this, 'DeliveriesTable', {
      value: this.tables.deliveries.tableName,
      description: 'DELIVERIES_TABLE for the CLI',
    });
    new CfnOutput(this, 'CountersTable', {
      value: this.tables.counters.tableName,
      description: 'COUNTERS_TABLE for the CLI (`pushletter stats --aws`)',
    });
    // The CLI's `--aws` commands read the same settings as the Lambdas: without them an import
    // would send confirmations from the default sender. Names and settings only, no secret
    // value; the token key's ARN, because the CLI finds and signs for subscribers with it.
    new CfnOutput(this, 'CliEnvironment', {
      value: shellExports({
        ...settings,
        [TABLE_ENVIRONMENT.subscribers]: this.tables.subscribers.tableName,
        [TABLE_ENVIRONMENT.issues]: this.tables.issues.tableName,
        [TABLE_ENVIRONMENT.deliveries]: this.tables.deliveries.tableName,
        [TABLE_ENVIRONMENT.counters]: this.tables.counters.tableName,
        [SECRET_ENVIRONMENT.tokenKey]: this.secrets.tokenKey.secretArn,
      }),
      description: 'The environment for `npx pushletter … --aws`: eval "$(…)" it in your shell',
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.alarms.topic.topicArn,
      description: 'Subscribe to this topic for alarms',
    });
    new CfnOutput(this, 'DashboardUrl', {
      value: this.dashboard.url,
      description: 'The CloudWatch dashboard: sends, bounces and complaints against the limits, and the alarms',
    });
  }

  /**
   * The DNS records that authenticate the newsletter's mail: Easy DKIM's three CNAMEs (for a
   * domain identity the stack creates) and the MAIL FROM domain's MX and SPF records. Each
   * output is one record, `name TYPE value`, as a DNS host asks for it.
   */
  private emailAuthenticationOutputs(config: DeployConfig): void {
    const identity = this.sending.identity;
    new CfnOutput(this, 'SesIdentity', {
      value: this.sending.identityName,
      description: identity
        ? 'The SES identity the stack created: verify it (DKIM records for a domain, the emailed link for an address)'
        : 'The existing SES identity the stack sends from',
    });
    if (identity && config.domain) {
      const tokens = [
        [identity.dkimDnsTokenName1, identity.dkimDnsTokenValue1],
        [identity.dkimDnsTokenName2, identity.dkimDnsTokenValue2],
        [identity.dkimDnsTokenName3, identity.dkimDnsTokenValue3],
      ];
      tokens.forEach(([name, value], index) => {
        new CfnOutput(this, `DkimRecord${index + 1}`, {
          value: `${name} CNAME ${value}`,
          description: `Easy DKIM record ${index + 1} of 3 for ${config.domain}`,
        });
      });
    }
    if (config.mailFromDomain) {
      new CfnOutput(this, 'MailFromMxRecord', {
        value: `${config.mailFromDomain} MX 10 feedback-smtp.${this.region}.amazonses.com`,
        description: 'MAIL FROM domain: the MX record SES needs to receive bounces there',
      });
      new CfnOutput(this, 'MailFromSpfRecord', {
        value: `${config.mailFromDomain} TXT "v=spf1 include:amazonses.com ~all"`,
        description: 'MAIL FROM domain: the SPF record that lets SES send for it (aligned with the From domain)',
      });
    }
  }
}
