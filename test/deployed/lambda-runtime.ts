/**
 * Runs a function's real bundle the way Lambda does: a fresh Node process (a container) with
 * the template's environment for that function plus what the runtime sets, importing the
 * handler once and invoking it with each event in turn. @aws-sdk/* is resolvable in the
 * bundle's folder only, as the Node 22 runtime provides it; nothing else outside the bundle is.
 */
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT } from '../../infra/constructs/function';
import type { AwsStandIns } from './aws-stand-ins';
import { type DeployedFunction, REGION } from './template';

const RUNTIME_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'runtime');
const CONFIG_MODULE = path.join(PROJECT_ROOT, 'functions', 'commons', 'config.ts');

export interface Outcome {
  result?: unknown;
  error?: { name: string; message: string; stack: string };
}

export interface EnvironmentRead {
  name: string;
  /** The project source that read it, relative to the project (functions/commons/config.ts). */
  source: string;
  line: number;
}

export interface Invocation {
  fn: DeployedFunction;
  outcomes: Outcome[];
  reads: EnvironmentRead[];
  /** The process's stdout and stderr: the function's logs. */
  logs: string;
  /** Calls a real deployment would have refused (role, region, identity), naming the function. */
  refusals: string[];
  /** Variables the code read that the template does not set for the function. */
  unsetSettings: string[];
}

/** Gives the bundle's folder a node_modules with @aws-sdk/* only, as Lambda's Node 22 runtime has. */
function provideSdk(bundle: string): void {
  const modules = path.join(path.dirname(bundle), 'node_modules');
  const link = path.join(modules, '@aws-sdk');
  if (fs.existsSync(link)) return;
  fs.mkdirSync(modules, { recursive: true });
  fs.symlinkSync(path.join(PROJECT_ROOT, 'node_modules', '@aws-sdk'), link, 'dir');
}

/** What Lambda's runtime sets in every function's environment, besides the function's own variables. */
function runtimeEnvironment(
  fn: DeployedFunction,
  credentials: { accessKeyId: string; sessionToken: string },
): Record<string, string> {
  return {
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: '2026/12/03/[$LATEST]0123456789abcdef0123456789abcdef',
    AWS_LAMBDA_LOG_FORMAT: 'JSON',
    AWS_LAMBDA_LOG_LEVEL: 'INFO',
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: 'secret-of-the-role-session',
    AWS_SESSION_TOKEN: credentials.sessionToken,
    LAMBDA_TASK_ROOT: path.dirname(fn.bundle),
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    PATH: process.env.PATH ?? '/usr/bin:/bin',
  };
}

/** The function in config.ts a line belongs to (`read` has a local default; `optional` may be absent). */
function enclosingFunction(line: number): string | undefined {
  const lines = fs.readFileSync(CONFIG_MODULE, 'utf8').split('\n').slice(0, line);
  for (const text of lines.reverse()) {
    const match = /^\s*(?:export\s+)?(?:async\s+)?function\s+(\w+)/.exec(text);
    if (match) return match[1];
  }
  return undefined;
}

/**
 * Variables the project's code read that the function's environment lacks. Only a read through
 * config.ts's `optional()` may find nothing: every other read falls back to a default meant for
 * the local stack (or fails), which on AWS is a setting the template forgot.
 */
export function unsetReads(
  fn: DeployedFunction,
  reads: EnvironmentRead[],
  environment: Record<string, string>,
): string[] {
  const problems: string[] = [];
  for (const read of reads) {
    if (environment[read.name] !== undefined) continue;
    const where = `${read.source}:${read.line}`;
    const reader = read.source === 'functions/commons/config.ts' ? enclosingFunction(read.line) : undefined;
    if (reader === 'optional') continue;
    const how = reader ? `in ${reader}()` : 'outside functions/commons/config.ts';
    problems.push(
      `function ${fn.entry} (${fn.name}) reads ${read.name} (${where}, ${how}) but the template does not set it`,
    );
  }
  return problems;
}

export interface RunOptions {
  /** Variables to drop from the template's environment (a test of the check itself). */
  withoutVariables?: string[];
}

/** Starts a fresh container for `fn`, invokes it with each event in turn, and reports. */
export async function runFunction(
  standIns: AwsStandIns,
  fn: DeployedFunction,
  events: unknown[],
  options: RunOptions = {},
): Promise<Invocation> {
  provideSdk(fn.bundle);
  const credentials = standIns.credentialsFor(fn);
  const functionEnvironment = { ...fn.environment };
  for (const name of options.withoutVariables ?? []) delete functionEnvironment[name];
  const environment = {
    ...functionEnvironment,
    ...runtimeEnvironment(fn, credentials),
    ...standIns.endpointEnvironment(),
  };
  const refusalsBefore = standIns.refusals.length;
  const child = fork(path.join(RUNTIME_DIR, 'bootstrap.mjs'), [fn.bundle], {
    cwd: path.dirname(fn.bundle),
    env: environment,
    execArgv: ['--import', path.join(RUNTIME_DIR, 'env-recorder.mjs')],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let logs = '';
  child.stdout!.on('data', (chunk: Buffer) => (logs += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (logs += chunk.toString('utf8')));
  const report = await new Promise<{ outcomes: Outcome[]; reads: { name: string; source: string; line: number }[] }>(
    (resolve, reject) => {
      // Lambda's own limit, per event, plus a cold start.
      const limit = setTimeout(
        () => {
          child.kill('SIGKILL');
          reject(
            new Error(
              `function ${fn.entry} did not finish within its timeout of ${fn.timeoutSeconds} s per event\n${logs}`,
            ),
          );
        },
        (fn.timeoutSeconds * events.length + 10) * 1000,
      );
      child.once('message', (message) => {
        clearTimeout(limit);
        resolve(message as never);
      });
      child.once('exit', (code) => {
        clearTimeout(limit);
        reject(new Error(`function ${fn.entry} exited with ${code} before reporting\n${logs}`));
      });
      child.send({
        events,
        context: {
          timeoutMs: fn.timeoutSeconds * 1000,
          fields: {
            functionName: fn.name,
            functionVersion: '$LATEST',
            invokedFunctionArn: fn.arn,
            memoryLimitInMB: String(fn.memorySize),
            logGroupName: `/aws/lambda/${fn.name}`,
            logStreamName: '2026/12/03/[$LATEST]0123456789abcdef0123456789abcdef',
          },
        },
      });
    },
  );
  await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(undefined)));
  const reads = report.reads.map((read) => {
    // Source maps name sources relative to the bundle; keep the project-relative part.
    const at = read.source.lastIndexOf('/functions/');
    return { ...read, source: at >= 0 ? read.source.slice(at + 1) : read.source };
  });
  return {
    fn,
    outcomes: report.outcomes,
    reads,
    logs,
    refusals: standIns.refusals.slice(refusalsBefore),
    unsetSettings: unsetReads(fn, reads, environment),
  };
}
