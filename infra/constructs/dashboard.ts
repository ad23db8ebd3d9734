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

/** Half a row: counts from zero, without CloudWatch's "Count" beside every number. */
function graph(
  title: string,
  left: cloudwatch.IMetric[],
  leftAnnotations: cloudwatch.HorizontalAnnotation[] = [],
): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({
    title,
    width: 12,
    height: 6,
    left,
    leftAnnotations,
    leftYAxis: { min: 0, showUnits: false },
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
      label: `${label} ${value * 100}%`,
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
      graph('Copies per hour', [
        counted('sent', 'sent', hour),
        counted('delivered', 'delivered', hour),
        counted('failed', 'failed (SES refused the call)', hour),
        counted('unknown', 'unknown (a sender stopped)', hour),
        counted('rejected', 'rejected by SES', hour),
        counted('delayed', 'delayed', hour),
      ]),
      graph('Bounces and complaints per hour', [
        counted('bounced', 'permanent bounces', hour),
        counted('complained', 'complaints', hour),
      ]),
    );
    const { sesBounceReview, sesComplaintReview, gmailSpam } = RATE_LIMITS;
    this.dashboard.addWidgets(
      graph(
        `Bounce rate per day (%), SES reviews at ${sesBounceReview * 100}%`,
        [percent('bounced', 'bounce rate %')],
        [level(sesBounceReview, 'SES review', '#d62728')],
      ),
      graph(
        `Complaint rate per day (%), SES reviews at ${sesComplaintReview * 100}%, Gmail's limit ${gmailSpam * 100}%`,
        [percent('complained', 'complaint rate %')],
        [level(sesComplaintReview, 'SES review', '#d62728'), level(gmailSpam, 'Gmail spam limit', '#ff7f0e')],
      ),
    );
    this.dashboard.addWidgets(
      graph('The list per day', [
        counted('signups', 'signups', day),
        counted('confirmations', 'confirmations', day),
        counted('unsubscribes', 'unsubscribes', day),
      ]),
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
