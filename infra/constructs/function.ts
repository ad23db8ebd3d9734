import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** CommonJS dependencies (mjml and its tree) call require(); this gives the ESM bundle one. */
export const ESM_REQUIRE_BANNER =
  "import{createRequire as __pushletterCreateRequire}from'node:module';const require=__pushletterCreateRequire(import.meta.url);";

/** How every function is bundled (exported so a test can bundle other code the same way). */
export const BUNDLING = {
  format: OutputFormat.ESM,
  target: 'node22',
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  // The Node 22 runtime ships AWS SDK v3; bundling it again would only add weight.
  externalModules: ['@aws-sdk/*'],
  banner: ESM_REQUIRE_BANNER,
} satisfies BundlingOptions;

export interface PushletterFunctionProps {
  /** The entry's file name under functions/, without extension: `api` → functions/lambdas/api.ts. */
  entry: string;
  description: string;
  memorySize: number;
  timeout: Duration;
  environment?: Record<string, string>;
  /** For functions invoked asynchronously: where events go after Lambda's retries. */
  deadLetterQueue?: sqs.IQueue;
}

/**
 * Every pushletter Lambda: Node 22 on arm64 (cheaper per GB-second than x86), an ESM bundle
 * built by the local esbuild with linked source maps, JSON logs in a log group with a fixed
 * retention, and a role of its own that may write only to that log group. Permissions beyond
 * logging are granted by the constructs that own the resources, next to the environment
 * variable that names them.
 */
export class PushletterFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: PushletterFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: logs.RetentionDays.ONE_MONTH,
      // Logs hold masked addresses and event names only; they need not outlive the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // A role without AWSLambdaBasicExecutionRole, whose logs:* statements apply to every log
    // group in the account.
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `pushletter ${props.entry} function`,
    });
    super(scope, id, {
      entry: path.join(PROJECT_ROOT, 'functions', 'lambdas', `${props.entry}.ts`),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      description: props.description,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      deadLetterQueue: props.deadLetterQueue,
      retryAttempts: props.deadLetterQueue ? 2 : undefined,
      environment: {
        ...props.environment,
        // Stack traces point at the TypeScript sources instead of the minified bundle.
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: BUNDLING,
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Pinned to Node.js 22 (LTS, supported by Lambda into 2027) on purpose: a runtime change goes through this one line and a passing suite, not through a cdk-lib upgrade that moves "latest".',
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
  }
}
