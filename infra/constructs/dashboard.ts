import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { type CountedEvent, METRICS_NAMESPACE, METRICS_SERVICE } from '../../functions/commons/metrics';
import { RATE_LIMITS } from '../../functions/stats/snapshot';

export interface DashboardProps {
  /** Every alarm of the stack, shown with its state and threshold. */
  alarms: readonly cloudwatch.Alarm[];
}

/** What the functions count for an operator (functions/commons/metrics.ts), per period. */
function counted(name: CountedEvent, label: string, period: Duration): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { service: METRICS_SERVICE },
    statistic: cloudwatch.Stats.SUM,
    period,
    label,
  });
}

/**
 * The CloudWatch dashboard of the newsletter: the core figures of `pushletter report` as the
 * functions count them (Powertools Metrics), the bounce and complaint rates against SES's and
 * Gmail's levels, and every alarm. It opens on the last 30 days, the window SES judges by.
 */
export class Dashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  /** The dashboard in the CloudWatch console of the stack's region. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const hour = Duration.hours(1);
    const day = Duration.days(1);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${stack.stackName}-newsletter`,
      defaultInterval: Duration.days(30),
    });
    this.url = `https://${stack.region}.console.aws.amazon.com/cloudwatch/home?region=${stack.region}#dashboards/dashboard/${this.dashboard.dashboardName}`;

    /** `name` per copy sent, per day, in percent: the rate SES and Gmail judge. */
    const percent = (name: CountedEvent, label: string) =>
      new cloudwatch.MathExpression({
        expression: `100 * ${name} / sent`,
        usingMetrics: { sent: counted('sent', 'sent', day), [name]: counted(name, name, day) },
        label,
        period: day,
      });
    const level = (value: number, label: string, color: string): cloudwatch.HorizontalAnnotation => ({
      value: value * 100,
      label,
      color,
    });

    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        width: 24,
        height: 2,
        markdown: [
          '# pushletter',
          'Copies sent and what SES reported about them, as the functions count them; nothing here counts one reader.',
          'Per post and per link: `npx pushletter report --aws`. Rates are permanent bounces and complaints over copies sent, per day.',
        ].join('\n'),
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Copies per hour',
        width: 12,
        height: 6,
        left: [
          counted('sent', 'sent', hour),
          counted('delivered', 'delivered', hour),
          counted('failed', 'failed (SES refused the call)', hour),
          counted('unknown', 'unknown (a sender stopped)', hour),
          counted('rejected', 'rejected by SES', hour),
          counted('delayed', 'delayed', hour),
        ],
        leftYAxis: { min: 0, showUnits: false },
      }),
      new cloudwatch.GraphWidget({
        title: 'Bounces and complaints per hour',
        width: 12,
        height: 6,
        left: [counted('bounced', 'permanent bounces', hour), counted('complained', 'complaints', hour)],
        leftYAxis: { min: 0, showUnits: false },
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Bounce rate per day (%), SES reviews at 5%',
        width: 12,
        height: 6,
        left: [percent('bounced', 'bounce rate %')],
        leftAnnotations: [level(RATE_LIMITS.sesBounceReview, 'SES review 5%', '#d62728')],
        leftYAxis: { min: 0, showUnits: false },
      }),
      new cloudwatch.GraphWidget({
        title: "Complaint rate per day (%), SES reviews at 0.1%, Gmail's limit 0.3%",
        width: 12,
        height: 6,
        left: [percent('complained', 'complaint rate %')],
        leftAnnotations: [
          level(RATE_LIMITS.sesComplaintReview, 'SES review 0.1%', '#d62728'),
          level(RATE_LIMITS.gmailSpam, 'Gmail spam limit 0.3%', '#ff7f0e'),
        ],
        leftYAxis: { min: 0, showUnits: false },
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'The list per day',
        width: 12,
        height: 6,
        left: [
          counted('signups', 'signups', day),
          counted('confirmations', 'confirmations', day),
          counted('unsubscribes', 'unsubscribes', day),
        ],
        leftYAxis: { min: 0, showUnits: false },
      }),
      new cloudwatch.SingleValueWidget({
        title: 'Over the dashboard’s time range',
        width: 12,
        height: 6,
        setPeriodToTimeRange: true,
        metrics: [
          counted('sent', 'copies sent', day),
          counted('delivered', 'delivered', day),
          counted('bounced', 'permanent bounces', day),
          counted('complained', 'complaints', day),
          counted('signups', 'signups', day),
          counted('unsubscribes', 'unsubscribes', day),
        ],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', width: 24, height: 4, alarms: [...props.alarms] }),
    );
    // Each alarm with its metric and threshold, four to a row.
    const alarmWidgets = props.alarms.map(
      (alarm) => new cloudwatch.AlarmWidget({ alarm, title: alarm.node.id, width: 6, height: 5 }),
    );
    for (let index = 0; index < alarmWidgets.length; index += 4)
      this.dashboard.addWidgets(...alarmWidgets.slice(index, index + 4));
  }
}
