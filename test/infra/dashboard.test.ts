import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { countEvents, metrics } from '../../functions/commons/metrics';
import { synthesize } from './synth';
import { render } from './template';

/**
 * The CloudWatch dashboard as synthesized: it must show what the functions really publish
 * (the namespace and dimension Powertools writes, names some function counts) and every alarm.
 */
let template: Template;
let body: { start: string; widgets: Widget[] };
let names: Record<string, string>;

interface Widget {
  type: string;
  properties: {
    title?: string;
    markdown?: string;
    metrics?: unknown[][];
    alarms?: string[];
    annotations?: { alarms?: string[]; horizontal?: { value: number; label: string }[] };
  };
}

beforeAll(() => {
  ({ template } = synthesize());
  const alarms = template.findResources('AWS::CloudWatch::Alarm');
  names = Object.fromEntries(Object.keys(alarms).map((id) => [id, `alarm:${id}`]));
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  body = JSON.parse(render(dashboard!.Properties.DashboardBody, names));
});

afterEach(() => metrics.clearMetrics());

/**
 * The names functions/ can publish: the quoted words of every file that calls countEvents (some
 * pass the name straight, others through a table of events or their own count helper).
 */
function countedInSource(folder = 'functions'): Set<string> {
  const found = new Set<string>();
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) for (const name of countedInSource(path)) found.add(name);
    else if (entry.name.endsWith('.ts') && !path.endsWith(join('commons', 'metrics.ts'))) {
      const source = readFileSync(path, 'utf8');
      if (source.includes('countEvents(')) for (const [, name] of source.matchAll(/'(\w+)'/g)) found.add(name!);
    }
  }
  return found;
}

/** Every plain metric on the dashboard (math expressions aside): namespace, name, dimensions. */
function dashboardMetrics(): { namespace: string; name: string; dimensions: Record<string, string> }[] {
  return body.widgets.flatMap((widget) =>
    (widget.properties.metrics ?? [])
      .filter((line) => typeof line[0] === 'string')
      .map((line) => {
        const [namespace, name, ...rest] = line as string[];
        const pairs = rest.filter((item) => typeof item === 'string');
        const dimensions: Record<string, string> = {};
        for (let index = 0; index < pairs.length; index += 2) dimensions[pairs[index]!] = pairs[index + 1]!;
        return { namespace: namespace!, name: name!, dimensions };
      }),
  );
}

describe('the CloudWatch dashboard', () => {
  it('is one dashboard over the last 30 days, and the stack outputs its console URL', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    expect(body.start).toBe('-P30D');
    const url = render(template.toJSON().Outputs.DashboardUrl.Value, {});
    const [id] = Object.keys(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(url).toBe(
      `https://\${Region}.console.aws.amazon.com/cloudwatch/home?region=\${Region}#dashboards/dashboard/${id}`,
    );
  });

  it('reads the metrics the functions publish: their namespace, service dimension and names', () => {
    // What Powertools really writes for a counted event (the EMF line a Lambda logs).
    countEvents('sent');
    const emf = metrics.serializeMetrics() as unknown as {
      _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] };
      service: string;
    };
    const [directive] = emf._aws.CloudWatchMetrics;
    const emitted = countedInSource();
    const shown = dashboardMetrics();
    expect(shown.length).toBeGreaterThan(0);
    for (const metric of shown) {
      expect(metric.namespace).toBe(directive!.Namespace);
      expect(Object.keys(metric.dimensions)).toEqual(directive!.Dimensions[0]);
      expect(metric.dimensions.service).toBe(emf.service);
      expect(emitted, `no function counts "${metric.name}"`).toContain(metric.name);
    }
    // The core figures are all there.
    for (const name of ['sent', 'delivered', 'failed', 'bounced', 'complained', 'signups', 'unsubscribes'])
      expect(shown.map((metric) => metric.name)).toContain(name);
  });

  it('draws the bounce and complaint rates against SES review levels and Gmail spam limit', () => {
    const rates = body.widgets.filter((widget) =>
      (widget.properties.metrics ?? []).some((line) => typeof line[0] === 'object'),
    );
    const expressions = rates.flatMap((widget) =>
      (widget.properties.metrics ?? [])
        .filter((line) => typeof line[0] === 'object')
        .map((line) => (line[0] as { expression: string }).expression),
    );
    expect(expressions.sort()).toEqual(['100 * bounced / sent', '100 * complained / sent']);
    const levels = rates.flatMap((widget) =>
      (widget.properties.annotations?.horizontal ?? []).map((line) => line.value),
    );
    expect(levels.sort()).toEqual([0.1, 0.3, 5]);
  });

  it('shows every alarm of the stack: in the status list and each with its own graph', () => {
    const all = Object.values(names).sort();
    expect(all.length).toBeGreaterThanOrEqual(11);
    const status = body.widgets.filter((widget) => widget.type === 'alarm');
    expect(status).toHaveLength(1);
    expect([...status[0]!.properties.alarms!].sort()).toEqual(all.map((name) => `${name}.Arn`));
    const graphed = body.widgets.flatMap((widget) => widget.properties.annotations?.alarms ?? []);
    expect(graphed.sort()).toEqual(all.map((name) => `${name}.Arn`));
  });
});
