/**
 * The deployed-shape stack: the app synthesized and bundled once, its tables created in
 * dynalite from the template, its secrets given values as CloudFormation would, the SES
 * emulator, a GitHub contents API over a real git repository, and the AWS stand-ins checking
 * every call against the template's roles.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateTableCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { type LocalDynamo, startDynalite } from '../../functions/local/dynalite-server';
import { type LocalSes, startSesEmulator } from '../../functions/local/ses-emulator';
import { DEPLOYED_CONTEXT } from '../infra/synth';
import { BlogRepository, type FakeGitHub, startFakeGitHub } from '../integration/webhook-harness';
import { AwsStandIns } from './aws-stand-ins';
import { type Invocation, type RunOptions, runFunction } from './lambda-runtime';
import { type CfnTemplate, type DeployedFunction, Deployment, synthesizeBundled } from './template';

export const BLOG_REPOSITORY = 'octocat/blog';

export interface DeployedStack {
  deployment: Deployment;
  functions: Record<string, DeployedFunction>;
  standIns: AwsStandIns;
  github: FakeGitHub;
  blog: BlogRepository;
  ses: LocalSes;
  /** The test's own view of the tables (not through the stand-ins). */
  dynamo: DynamoDBClient;
  secretValues: Map<string, string>;
  run(entry: string, events: unknown[], options?: RunOptions): Promise<Invocation>;
  /** Logical id → resolved name of each table, queue, function. */
  physical(logicalIdPrefix: string): string;
  items(tableLogicalIdPrefix: string): Promise<Record<string, any>[]>;
  /** The same bundles under a changed template (a grant removed, say). */
  withTemplate(change: (template: CfnTemplate) => void): Pick<DeployedStack, 'functions' | 'run'>;
  stop(): Promise<void>;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function generatePassword(options: Record<string, any>): string {
  const length = Number(options.PasswordLength ?? 32);
  const bytes = randomBytes(length);
  return Array.from(bytes, (byte) => ALPHANUMERIC[byte % ALPHANUMERIC.length]).join('');
}

/**
 * Each secret's value as CloudFormation would create it: GenerateSecretString (with its
 * template and key), or SecretString with `{{resolve:secretsmanager:…}}` dynamic references
 * to other secrets replaced by their values.
 */
function secretValues(deployment: Deployment): Map<string, string> {
  const values = new Map<string, string>();
  const secrets = Object.entries(deployment.template.Resources).filter(
    ([, resource]) => resource.Type === 'AWS::SecretsManager::Secret',
  );
  for (const [logicalId, resource] of secrets) {
    const generate = resource.Properties?.GenerateSecretString as Record<string, any> | undefined;
    if (!generate) continue;
    const password = generatePassword(generate);
    const value =
      generate.SecretStringTemplate && generate.GenerateStringKey
        ? JSON.stringify({ ...JSON.parse(generate.SecretStringTemplate), [generate.GenerateStringKey]: password })
        : password;
    values.set(deployment.arnOf(logicalId), value);
  }
  for (const [logicalId, resource] of secrets) {
    const text = resource.Properties?.SecretString;
    if (text === undefined) continue;
    const resolved = deployment
      .resolveString(text)
      .replace(
        /\{\{resolve:secretsmanager:(.+?):SecretString:([^:]*):([^:]*):([^}]*)\}\}/g,
        (_match, id: string, jsonKey: string) => {
          const referenced = [...values.entries()].find(
            ([arn]) => arn === id || arn.split(':').pop()!.startsWith(`${id}-`),
          )?.[1];
          if (referenced === undefined) throw new Error(`secret ${logicalId} refers to ${id}, which has no value yet`);
          return jsonKey ? String(JSON.parse(referenced)[jsonKey]) : referenced;
        },
      );
    values.set(deployment.arnOf(logicalId), resolved);
  }
  // A secret created without a value (a token the editor puts later) has none: GetSecretValue fails as on AWS.
  return values;
}

async function createTables(deployment: Deployment, dynamo: DynamoDBClient): Promise<void> {
  for (const [logicalId, resource] of Object.entries(deployment.template.Resources)) {
    if (resource.Type !== 'AWS::DynamoDB::Table') continue;
    const properties = deployment.resolve(resource.Properties ?? {}) as Record<string, any>;
    await dynamo.send(
      new CreateTableCommand({
        TableName: deployment.physicalName(logicalId),
        KeySchema: properties.KeySchema,
        AttributeDefinitions: properties.AttributeDefinitions,
        BillingMode: 'PAY_PER_REQUEST',
        GlobalSecondaryIndexes: properties.GlobalSecondaryIndexes?.map((index: Record<string, any>) => ({
          IndexName: index.IndexName,
          KeySchema: index.KeySchema,
          Projection: index.Projection,
        })),
      }),
    );
  }
}

export async function startDeployedStack(blogFiles: Record<string, string>): Promise<DeployedStack> {
  const blog = new BlogRepository();
  blog.commit('The blog so far', { write: blogFiles });
  const github = await startFakeGitHub(blog, BLOG_REPOSITORY, '/api/v3');
  const local: { dynamo?: LocalDynamo; ses?: LocalSes } = {};
  local.dynamo = await startDynalite({ port: 0, setting: 'DYNAMODB_PORT' });
  const assemblyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pushletter-deployed-'));
  local.ses = await startSesEmulator({
    port: 0,
    setting: 'SES_PORT',
    inboxFile: path.join(assemblyDir, 'inbox.jsonl'),
  });
  const standIns = await AwsStandIns.start({ dynamodb: local.dynamo.endpoint, ses: local.ses.url });

  // GitHub is reached through the deploy setting for GitHub Enterprise, as a deployer would set it.
  // The mail-domain check is off (a documented cdk.json key): this suite has no DNS but the
  // machine's, which may answer NXDOMAIN for every name; the check has its own tests against a
  // DNS stand-in (test/integration/http-signup-limits.test.ts).
  const templatePath = synthesizeBundled(assemblyDir, {
    ...DEPLOYED_CONTEXT,
    repository: BLOG_REPOSITORY,
    githubApiUrl: github.url,
    checkEmailDomain: false,
  });
  const template = JSON.parse(fs.readFileSync(templatePath, 'utf8')) as CfnTemplate;
  const deployment = new Deployment(template, assemblyDir, standIns.sqsUrl);
  const functions = deployment.functions();
  const values = secretValues(deployment);
  standIns.use(deployment, values);

  const dynamo = new DynamoDBClient({
    endpoint: local.dynamo.endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  await createTables(deployment, dynamo);

  const physical = (prefix: string) => {
    const logicalId = Object.keys(template.Resources).find((id) => id.startsWith(prefix));
    if (!logicalId) throw new Error(`no resource ${prefix}* in the template`);
    return deployment.physicalName(logicalId);
  };
  const runner =
    (fns: Record<string, DeployedFunction>) => (entry: string, events: unknown[], options?: RunOptions) => {
      const fn = fns[entry];
      if (!fn) throw new Error(`the template has no function for functions/lambdas/${entry}.ts`);
      return runFunction(standIns, fn, events, options);
    };
  return {
    deployment,
    functions,
    standIns,
    github,
    blog,
    ses: local.ses,
    dynamo,
    secretValues: values,
    run: runner(functions),
    physical,
    async items(prefix) {
      const items: Record<string, any>[] = [];
      let start: Record<string, any> | undefined;
      do {
        const page = await dynamo.send(new ScanCommand({ TableName: physical(prefix), ExclusiveStartKey: start }));
        items.push(...(page.Items ?? []).map((item) => unmarshall(item)));
        start = page.LastEvaluatedKey;
      } while (start);
      return items;
    },
    withTemplate(change) {
      const changed = structuredClone(template);
      change(changed);
      const fns = new Deployment(changed, assemblyDir, standIns.sqsUrl).functions();
      return { functions: fns, run: runner(fns) };
    },
    async stop() {
      await standIns.stop();
      await github.close();
      await local.ses?.stop();
      await local.dynamo?.stop();
      blog.remove();
      fs.rmSync(assemblyDir, { recursive: true, force: true });
    },
  };
}
