import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/**
 * SES reviews an account at a 5% bounce rate and a 0.1% complaint rate, and may pause sending
 * at 10% and 0.5%. Alarming below the review thresholds leaves time to clean the list first.
 */
export const SES_BOUNCE_RATE_THRESHOLD = 0.04;
export const SES_COMPLAINT_RATE_THRESHOLD = 0.0008;

export interface AlarmsProps {
  topicKey: kms.IKey;
  alarmEmail?: string;
}

/** Alarms that need a person, and the topic they notify (emailed when `alarmEmail` is set). */
export class Alarms extends Construct {
  readonly topic: sns.Topic;
  /** Every alarm made here, for the dashboard. */
  readonly all: cloudwatch.Alarm[] = [];
  private readonly action: actions.SnsAction;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'pushletter alarms',
      enforceSSL: true,
      masterKey: props.topicKey,
    });
    // The topic's policy (TLS only) replaces SNS's default one, which let the account's own
    // services publish: CloudWatch needs an explicit grant, limited to this account's alarms.
    const stack = Stack.of(this);
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    this.action = new actions.SnsAction(this.topic);

    // SES publishes these account-wide, without dimensions, once reputation metrics are on.
    this.alarm(
      'SesBounceRate',
      new cloudwatch.Metric({
        namespace: 'AWS/SES',
        metricName: 'Reputation.BounceRate',
        statistic: 'Maximum',
        period: Duration.hours(1),
      }),
      SES_BOUNCE_RATE_THRESHOLD,
      'SES bounce rate above 4%: remove invalid addresses before SES reviews the account at 5%',
    );
    this.alarm(
      'SesComplaintRate',
      new cloudwatch.Metric({
        namespace: 'AWS/SES',
        metricName: 'Reputation.ComplaintRate',
        statistic: 'Maximum',
        period: Duration.hours(1),
      }),
      SES_COMPLAINT_RATE_THRESHOLD,
      'SES complaint rate above 0.08%: SES reviews the account at 0.1%',
    );
  }

  /** Any message in a dead-letter queue is a post, a recipient batch or an event that gave up. */
  deadLetters(id: string, queue: sqs.IQueue, what: string): cloudwatch.Alarm {
    return this.alarm(
      id,
      queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      0,
      `${what} reached its dead-letter queue: read the function's logs, fix, then redrive`,
    );
  }

  /** Messages waiting longer than `maxAge` for their consumer: it is stuck, failing or held back. */
  queueLag(id: string, queue: sqs.IQueue, maxAge: Duration, what: string): cloudwatch.Alarm {
    return this.alarm(
      id,
      queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: 'Maximum' }),
      maxAge.toSeconds(),
      what,
    );
  }

  functionErrors(id: string, fn: lambda.IFunction, what: string): cloudwatch.Alarm {
    return this.alarm(
      id,
      fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      0,
      `${what} failed: read its logs`,
    );
  }

  private alarm(id: string, metric: cloudwatch.IMetric, threshold: number, description: string): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `pushletter: ${description}`,
    });
    alarm.addAlarmAction(this.action);
    this.all.push(alarm);
    return alarm;
  }
}
