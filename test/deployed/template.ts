/**
 * The synthesized stack as a deployment in account 123456789012, region eu-west-1 would make
 * it: intrinsic functions resolved to the names and ARNs CloudFormation would give, and each
 * function's environment, role statements and bundle read from the cloud assembly.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildApp } from '../../infra/app';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
export const PARTITION = 'aws';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export interface Resource {
  Type: string;
  Properties?: Record<string, Json>;
}
export interface CfnTemplate {
  Resources: Record<string, Resource>;
}

export interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface DeployedFunction {
  logicalId: string;
  /** The entry name: api, ingest, dispatch, send, ses-events. */
  entry: string;
  name: string;
  arn: string;
  roleArn: string;
  environment: Record<string, string>;
  /** Every statement of every policy attached to the function's role, resolved. */
  statements: Statement[];
  /** The bundle's index.mjs in the cloud assembly. */
  bundle: string;
  timeoutSeconds: number;
  memorySize: number;
}

/** Synthesizes the app with bundling on (esbuild, as `cdk synth`) into `outdir`; returns the template path. */
export function synthesizeBundled(outdir: string, context: Record<string, unknown>): string {
  const { app, stack } = buildApp(new App({ outdir, context }));
  return app.synth().getStackByName(stack.stackName).templateFullPath;
}

/** A stable suffix, like the random one CloudFormation appends to generated names. */
function suffix(logicalId: string, length = 12): string {
  return createHash('sha256').update(logicalId).digest('hex').slice(0, length).toUpperCase();
}

/** Resolves Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select and Fn::Split the way a deployment would. */
export class Deployment {
  readonly stackName = 'Pushletter';

  /**
   * @param queueEndpoint SQS queue URLs point at the queue's own endpoint (the SDK sends to the
   *   URL's host), so in the suite they name the SQS stand-in, with the real account and name.
   */
  constructor(
    readonly template: CfnTemplate,
    private readonly assemblyDir: string,
    private readonly queueEndpoint: string,
  ) {}

  resource(logicalId: string): Resource {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`the template has no resource ${logicalId}`);
    return resource;
  }

  /** The physical name CloudFormation gives a resource, honouring an explicit name property. */
  physicalName(logicalId: string): string {
    const { Type, Properties = {} } = this.resource(logicalId);
    const explicit: Record<string, string> = {
      'AWS::DynamoDB::Table': 'TableName',
      'AWS::SQS::Queue': 'QueueName',
      'AWS::Lambda::Function': 'FunctionName',
      'AWS::IAM::Role': 'RoleName',
      'AWS::SES::ConfigurationSet': 'Name',
      'AWS::Scheduler::ScheduleGroup': 'Name',
      'AWS::SNS::Topic': 'TopicName',
      'AWS::Logs::LogGroup': 'LogGroupName',
      'AWS::SecretsManager::Secret': 'Name',
    };
    const property = explicit[Type];
    if (property && Properties[property] !== undefined) return this.resolveString(Properties[property]);
    if (Type === 'AWS::SES::EmailIdentity') return this.resolveString(Properties.EmailIdentity ?? null);
    if (Type === 'AWS::Logs::LogGroup') return `/aws/lambda/${this.stackName}-${logicalId}-${suffix(logicalId)}`;
    // CloudFormation: stack name, logical id (shortened), random suffix; within length limits.
    return `${this.stackName}-${logicalId.slice(0, 40)}-${suffix(logicalId)}`;
  }

  arnOf(logicalId: string): string {
    const { Type } = this.resource(logicalId);
    const name = this.physicalName(logicalId);
    const regional = (service: string, resource: string) =>
      `arn:${PARTITION}:${service}:${REGION}:${ACCOUNT}:${resource}`;
    switch (Type) {
      case 'AWS::DynamoDB::Table':
        return regional('dynamodb', `table/${name}`);
      case 'AWS::SQS::Queue':
        return regional('sqs', name);
      case 'AWS::Lambda::Function':
        return regional('lambda', `function:${name}`);
      case 'AWS::IAM::Role':
        return `arn:${PARTITION}:iam::${ACCOUNT}:role/${name}`;
      case 'AWS::SecretsManager::Secret':
        return regional('secretsmanager', `secret:${name}-${suffix(logicalId, 6)}`);
      case 'AWS::SNS::Topic':
        return regional('sns', name);
      case 'AWS::Logs::LogGroup':
        return regional('logs', `log-group:${name}:*`);
      case 'AWS::KMS::Key':
        return regional('kms', `key/${suffix(logicalId, 32)}`);
      case 'AWS::Scheduler::ScheduleGroup':
        return regional('scheduler', `schedule-group/${name}`);
      case 'AWS::SES::ConfigurationSet':
        return regional('ses', `configuration-set/${name}`);
      case 'AWS::SES::EmailIdentity':
        return regional('ses', `identity/${name}`);
      default:
        throw new Error(`no ARN rule for ${Type} (${logicalId}); add one to test/deployed/template.ts`);
    }
  }

  ref(logicalId: string): string {
    const pseudo: Record<string, string> = {
      'AWS::Region': REGION,
      'AWS::AccountId': ACCOUNT,
      'AWS::Partition': PARTITION,
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': this.stackName,
    };
    if (pseudo[logicalId] !== undefined) return pseudo[logicalId]!;
    const { Type } = this.resource(logicalId);
    switch (Type) {
      case 'AWS::SQS::Queue':
        return `${this.queueEndpoint}/${ACCOUNT}/${this.physicalName(logicalId)}`;
      case 'AWS::SecretsManager::Secret':
      case 'AWS::SNS::Topic':
        return this.arnOf(logicalId);
      case 'AWS::ApiGatewayV2::Api':
        return suffix(logicalId, 10).toLowerCase();
      case 'AWS::KMS::Key':
        return suffix(logicalId, 32).toLowerCase();
      default:
        return this.physicalName(logicalId);
    }
  }

  getAtt(logicalId: string, attribute: string): string {
    const { Type } = this.resource(logicalId);
    if (attribute === 'Arn') return this.arnOf(logicalId);
    if (Type === 'AWS::ApiGatewayV2::Api' && attribute === 'ApiEndpoint')
      return `https://${this.ref(logicalId)}.execute-api.${REGION}.amazonaws.com`;
    if (Type === 'AWS::SQS::Queue' && attribute === 'QueueName') return this.physicalName(logicalId);
    if (Type === 'AWS::SQS::Queue' && attribute === 'QueueUrl') return this.ref(logicalId);
    throw new Error(`no Fn::GetAtt rule for ${Type}.${attribute} (${logicalId}); add one to test/deployed/template.ts`);
  }

  resolve(value: Json): Json {
    if (Array.isArray(value)) return value.map((item) => this.resolve(item));
    if (value === null || typeof value !== 'object') return value;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const [key] = keys as [string];
      const argument = value[key]!;
      switch (key) {
        case 'Ref':
          return this.ref(argument as string);
        case 'Fn::GetAtt': {
          const [logicalId, attribute] = Array.isArray(argument)
            ? (argument as string[])
            : (argument as string).split('.');
          return this.getAtt(logicalId!, attribute!);
        }
        case 'Fn::Join': {
          const [separator, parts] = argument as [string, Json[]];
          return (this.resolve(parts) as Json[]).map(String).join(separator);
        }
        case 'Fn::Select': {
          const [index, list] = argument as [Json, Json];
          return (this.resolve(list) as Json[])[Number(this.resolve(index))] ?? null;
        }
        case 'Fn::Split': {
          const [separator, text] = argument as [string, Json];
          return this.resolveString(text).split(separator);
        }
        case 'Fn::Sub': {
          const [text, variables = {}] = Array.isArray(argument)
            ? (argument as [string, Record<string, Json>])
            : [argument as string, {}];
          return text.replace(/\$\{([^}]+)\}/g, (_match, name: string) => {
            if (variables[name] !== undefined) return this.resolveString(variables[name]!);
            const [logicalId, attribute] = name.split('.');
            return attribute ? this.getAtt(logicalId!, attribute) : this.ref(logicalId!);
          });
        }
      }
    }
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, this.resolve(item)]));
  }

  resolveString(value: Json): string {
    const resolved = this.resolve(value);
    if (typeof resolved !== 'string') throw new Error(`expected a string, got ${JSON.stringify(resolved)}`);
    return resolved;
  }

  /** Statements of every AWS::IAM::Policy and inline policy attached to a role. */
  roleStatements(roleLogicalId: string): Statement[] {
    const statements: Statement[] = [];
    const documents: Json[] = [];
    for (const resource of Object.values(this.template.Resources)) {
      if (resource.Type !== 'AWS::IAM::Policy') continue;
      const roles = (resource.Properties?.Roles ?? []) as Json[];
      if (roles.some((role) => JSON.stringify(role) === JSON.stringify({ Ref: roleLogicalId })))
        documents.push(resource.Properties!.PolicyDocument!);
    }
    const role = this.resource(roleLogicalId);
    for (const inline of (role.Properties?.Policies ?? []) as { PolicyDocument: Json }[])
      documents.push(inline.PolicyDocument);
    if (((role.Properties?.ManagedPolicyArns ?? []) as Json[]).length > 0) {
      throw new Error(
        `role ${roleLogicalId} has managed policies; the suite evaluates only the template's own statements`,
      );
    }
    for (const document of documents) {
      const resolved = this.resolve(document) as unknown as { Statement: Statement[] };
      statements.push(...resolved.Statement);
    }
    return statements;
  }

  /** Every Lambda function of the stack, keyed by its entry name (api, ingest, …). */
  functions(): Record<string, DeployedFunction> {
    const functions: Record<string, DeployedFunction> = {};
    for (const [logicalId, resource] of Object.entries(this.template.Resources)) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const properties = resource.Properties!;
      const code = properties.Code as { S3Key?: string };
      const bundle = path.join(this.assemblyDir, `asset.${String(code.S3Key).replace(/\.zip$/, '')}`, 'index.mjs');
      if (!fs.existsSync(bundle)) throw new Error(`the bundle of ${logicalId} is missing at ${bundle}`);
      const entry = entryOf(bundle);
      const roleLogicalId = (properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
      const variables = ((properties.Environment as { Variables?: Record<string, Json> } | undefined)?.Variables ??
        {}) as Record<string, Json>;
      functions[entry] = {
        logicalId,
        entry,
        name: this.physicalName(logicalId),
        arn: this.arnOf(logicalId),
        roleArn: this.arnOf(roleLogicalId),
        environment: Object.fromEntries(
          Object.entries(variables).map(([key, value]) => [key, this.resolveString(value)]),
        ),
        statements: this.roleStatements(roleLogicalId),
        bundle,
        timeoutSeconds: Number(properties.Timeout ?? 3),
        memorySize: Number(properties.MemorySize ?? 128),
      };
    }
    return functions;
  }
}

/** The function's entry (functions/lambdas/<entry>.ts), read from the bundle's source map. */
function entryOf(bundle: string): string {
  const map = JSON.parse(fs.readFileSync(`${bundle}.map`, 'utf8')) as { sources: string[] };
  const entries = map.sources
    .map((source) => /(?:^|\/)functions\/lambdas\/([\w-]+)\.ts$/.exec(source)?.[1])
    .filter((name): name is string => name !== undefined);
  if (entries.length !== 1)
    throw new Error(
      `cannot tell which entry ${bundle} bundles (sources under functions/lambdas/: ${entries.join(', ')})`,
    );
  return entries[0]!;
}
