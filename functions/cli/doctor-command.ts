import type { Writable } from 'node:stream';
import { DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import type { DoctorClients } from '../adapters/doctor-clients';
import { readDeployedResources, readSettings, readTarget } from '../commons/config';
import { errorMessage, InvalidInputError } from '../commons/errors';
import { parseArgs } from './args';
import {
  type CheckLine,
  checkAccount,
  checkAlarmTopic,
  checkBounceProbe,
  checkIdentity,
  checkWebhook,
  type Deployment,
} from './doctor-checks';
import { Progress } from './progress';

const USAGE = 'doctor --aws [--stack NAME] [--wait SECONDS]';

const HELP = `usage: pushletter ${USAGE}
  Checks the deployed stack where only AWS can tell: the SES identity, DKIM and MAIL FROM
  status, sandbox or production access, the send quota against the stack's maxSendRate, the
  webhook answering, a confirmed subscription to the alarm topic, and a message to the SES
  mailbox simulator's bounce address coming back as a recorded bounce. Prints one line per
  check (ok, warn, FAIL) with what to do for each problem; exits 1 if any check failed.

  --stack NAME    the CloudFormation stack (default Pushletter)
  --wait SECONDS  how long to wait for the probe's bounce (default 60)

  Uses your default AWS credentials and region (AWS_PROFILE, AWS_REGION): the stack's region.`;

const DEFAULT_STACK = 'Pushletter';
const DEFAULT_WAIT_SECONDS = 60;
const MAX_WAIT_SECONDS = 900;

export interface DoctorOutput {
  out: Writable;
  err: Writable;
}

const LABELS: Record<CheckLine['level'], string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' };

function format(line: CheckLine): string {
  const fixes = (line.fix ?? []).map((step) => `        → ${step}`);
  return [`  ${LABELS[line.level]}  ${line.text}`, ...fixes].join('\n');
}

/** `export A='x' B='it'\''s'` (the CliEnvironment output, see infra/config.ts) → { A: 'x', B: "it's" }. */
export function parseShellExports(text: string): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const match of text.matchAll(/([A-Z_][A-Z0-9_]*)='((?:[^']|'\\'')*)'/g)) {
    environment[match[1]!] = match[2]!.replaceAll("'\\''", "'");
  }
  return environment;
}

function waitSeconds(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_WAIT_SECONDS;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 1 || value > MAX_WAIT_SECONDS) {
    throw new InvalidInputError(
      'CLI_USAGE',
      `--wait must be a number of seconds from 1 to ${MAX_WAIT_SECONDS}, for example 120 (got "${raw}")\nusage: pushletter ${USAGE}`,
    );
  }
  return value;
}

/** Why nothing could be asked at all: no region, no credentials, credentials refused. */
function accessProblem(error: unknown, region: string | undefined): CheckLine | undefined {
  const name = (error as { name?: string }).name ?? '';
  const message = errorMessage(error);
  if (/region is missing/i.test(message)) {
    return {
      level: 'fail',
      text: 'AWS region: none set',
      fix: [
        'set AWS_REGION to the region you deployed the stack to (export AWS_REGION=eu-west-1), or a region in your AWS profile',
      ],
    };
  }
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return {
      level: 'fail',
      text: 'AWS credentials: none found',
      fix: [
        'run `aws configure` (or `aws sso login --profile NAME` and set AWS_PROFILE=NAME), then run the doctor again',
      ],
    };
  }
  if (/ExpiredToken|InvalidClientTokenId|UnrecognizedClient|SignatureDoesNotMatch|InvalidAccessKeyId/.test(name)) {
    return {
      level: 'fail',
      text: `AWS credentials: refused in ${region ?? 'this region'} (${name})`,
      fix: ['renew them (aws sso login, or new access keys) and run the doctor again'],
    };
  }
  return undefined;
}

type StackResult = { deployment: Deployment } | { problem: CheckLine };

function stackNotFound(stackName: string, region: string | undefined): StackResult {
  return {
    problem: {
      level: 'fail',
      text: `stack ${stackName}: not found in ${region}`,
      fix: [
        'deploy it (npx cdk deploy), or name the stack you deployed with --stack NAME, or set AWS_REGION to the region you deployed it to',
      ],
    },
  };
}

async function readDeployment(clients: DoctorClients, stackName: string): Promise<StackResult> {
  let region: string | undefined;
  let stack: Stack | undefined;
  try {
    region = await clients.cloudFormation.config.region();
    stack = (await clients.cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
  } catch (error) {
    const access = accessProblem(error, region);
    if (access !== undefined) return { problem: access };
    // CloudFormation answers a ValidationError naming the stack.
    if (/does not exist/.test(errorMessage(error))) return stackNotFound(stackName, region);
    return {
      problem: {
        level: 'fail',
        text: `stack ${stackName}: could not read it (${(error as Error).name}: ${errorMessage(error)})`,
        fix: [
          'your credentials need cloudformation:DescribeStacks; check them and your network, then run the doctor again',
        ],
      },
    };
  }
  if (stack === undefined) return stackNotFound(stackName, region);
  const outputs = Object.fromEntries(
    (stack.Outputs ?? [])
      .filter((output) => output.OutputKey && output.OutputValue !== undefined)
      .map((output) => [output.OutputKey!, output.OutputValue!]),
  );
  if (outputs.CliEnvironment === undefined) {
    return {
      problem: {
        level: 'fail',
        text: `stack ${stackName}: no CliEnvironment output (${stack.StackStatus ?? 'status unknown'})`,
        fix: ['deploy the stack from this version (npx cdk deploy), then run the doctor again'],
      },
    };
  }
  const environment = parseShellExports(outputs.CliEnvironment);
  try {
    const settings = readSettings(environment);
    return {
      deployment: {
        stackName,
        region,
        outputs,
        settings,
        deliveriesTable: outputs.DeliveriesTable ?? readDeployedResources(environment).deliveriesTable,
      },
    };
  } catch (error) {
    return {
      problem: {
        level: 'fail',
        text: `stack ${stackName}: its settings are not valid (${errorMessage(error)})`,
        fix: ['fix the value in cdk.json and deploy again'],
      },
    };
  }
}

export async function runDoctor(args: string[], output: DoctorOutput): Promise<number> {
  const { values, positionals } = parseArgs(
    args,
    {
      aws: { type: 'boolean' },
      stack: { type: 'string' },
      wait: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    USAGE,
  );
  if (values.help) {
    output.out.write(`${HELP}\n`);
    return 0;
  }
  if (positionals.length > 0)
    throw new InvalidInputError('CLI_USAGE', `unexpected argument "${positionals[0]}"\nusage: pushletter ${USAGE}`);
  if (!values.aws && readTarget() !== 'aws') {
    throw new InvalidInputError(
      'CLI_USAGE',
      `doctor checks the stack deployed on AWS: run \`pushletter doctor --aws\`\nusage: pushletter ${USAGE}`,
    );
  }
  const stackName = values.stack?.trim() || DEFAULT_STACK;
  const wait = waitSeconds(values.wait);
  const { doctorClients } = await import('../adapters/doctor-clients');
  const aws = doctorClients();

  const counts = { ok: 0, warn: 0, fail: 0 };
  const print = (lines: CheckLine[]) => {
    for (const line of lines) counts[line.level]++;
    if (lines.length > 0) output.out.write(`${lines.map(format).join('\n')}\n`);
  };
  const summary = () => {
    const verdict =
      counts.fail > 0
        ? 'fix the FAIL lines and run `pushletter doctor --aws` again'
        : counts.warn > 0
          ? 'working; see the warnings'
          : 'all good';
    output.out.write(
      `${counts.ok} ok, ${counts.warn} warning${counts.warn === 1 ? '' : 's'}, ${counts.fail} failed: ${verdict}\n`,
    );
    return counts.fail > 0 ? 1 : 0;
  };

  const read = await readDeployment(aws, stackName);
  if ('problem' in read) {
    output.out.write(`pushletter doctor: stack ${stackName}\n`);
    print([read.problem]);
    return summary();
  }
  const { deployment } = read;
  output.out.write(`pushletter doctor: stack ${stackName} in ${deployment.region}\n`);
  // The independent checks ask at once; their lines print in a fixed order.
  const [identity, account, webhook, alarms] = await Promise.all([
    checkIdentity(deployment, aws),
    checkAccount(deployment, aws),
    checkWebhook(deployment),
    checkAlarmTopic(deployment, aws),
  ]);
  print([...identity.lines, ...account, webhook, alarms]);

  if (!identity.verified) {
    print([{ level: 'warn', text: 'bounce probe: not sent, SES cannot send from an unverified identity (see above)' }]);
  } else {
    const progress = new Progress("seconds waited for the probe's bounce", wait, output.err as NodeJS.WriteStream);
    let waited = false;
    const probe = await checkBounceProbe(deployment, aws, {
      waitSeconds: wait,
      onWait: (seconds) => {
        waited = true;
        progress.update(seconds);
      },
    });
    if (waited) progress.finish();
    print([probe]);
  }
  return summary();
}

export async function run(args: string[]): Promise<number> {
  return runDoctor(args, { out: process.stdout, err: process.stderr });
}
