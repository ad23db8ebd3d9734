import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import cdkJson from '../../cdk.json';
import { buildApp } from '../../infra/app';
import { DEPLOYED_CONTEXT } from './synth';

interface Violation {
  ruleName: string;
  violatingConstructs: Array<{ constructPath: string }>;
}

const outdirs: string[] = [];
afterAll(() => {
  for (const outdir of outdirs) fs.rmSync(outdir, { recursive: true, force: true });
});

/** Synthesizes as `cdk synth` does (cdk-nag plugin included), bundling skipped; returns what it found. */
function synthWithNag(context: Record<string, unknown>, tamper?: (app: ReturnType<typeof buildApp>) => void) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'pushletter-nag-'));
  outdirs.push(outdir);
  const built = buildApp(new App({ outdir, context: { ...context, 'aws:cdk:bundling-stacks': [] } }));
  tamper?.(built);
  let error: Error | undefined;
  try {
    built.app.synth();
  } catch (caught) {
    error = caught as Error;
  }
  const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
    pluginReports: Array<{ violations: Violation[] }>;
  };
  const violations = report.pluginReports.flatMap((plugin) => plugin.violations);
  return { error, violations };
}

describe('cdk-nag AwsSolutions checks', () => {
  it.each([
    ['a deployment with a domain and an alarm email', DEPLOYED_CONTEXT],
    ['the cdk.json defaults (no domain, no alarm email)', cdkJson.context],
    [
      'a deployment with its own API domain (certificate requested) and a MAIL FROM domain',
      { ...DEPLOYED_CONTEXT, apiDomain: 'letters.example.org', mailFromDomain: 'bounce.example.org' },
    ],
    ['a deployment sending from an existing identity', { ...DEPLOYED_CONTEXT, existingIdentity: 'true' }],
  ])(
    'find nothing unacknowledged in %s',
    (_, context) => {
      const { error, violations } = synthWithNag(context);
      expect(violations).toEqual([]);
      expect(error).toBeUndefined();
    },
    300_000,
  );

  it('fail the synthesis on a finding (an SQS queue without TLS enforcement or a dead-letter queue)', () => {
    const { error, violations } = synthWithNag(DEPLOYED_CONTEXT, ({ stack }) => {
      new sqs.Queue(stack, 'Careless', { enforceSSL: false });
    });
    expect(error?.message).toMatch(/AwsSolutions-SQS4/);
    const careless = violations.filter((violation) =>
      violation.violatingConstructs.some((construct) => construct.constructPath.startsWith('Pushletter/Careless/')),
    );
    expect(careless.map((violation) => violation.ruleName).sort()).toEqual(['AwsSolutions-SQS3', 'AwsSolutions-SQS4']);
  }, 300_000);
});
