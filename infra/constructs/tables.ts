import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { countersTableDefinition } from '../../functions/contract/counters-table';
import {
  DELIVERIES_TTL_ATTRIBUTE,
  deliveriesTableDefinition,
  issuesTableDefinition,
} from '../../functions/contract/delivery-tables';
import { ENV } from '../../functions/contract/env';
import { LIMITS_TTL_ATTRIBUTE, limitsTableDefinition } from '../../functions/contract/limits-table';
import { SUBSCRIBERS_TTL_ATTRIBUTE, subscriberTableDefinition } from '../../functions/contract/subscriber-table';

type TableDefinition = Omit<CreateTableCommandInput, 'TableName'>;

/** The item actions the functions send (the names of the SDK commands, without `Command`). */
export type ItemAction =
  | 'GetItem'
  | 'BatchGetItem'
  | 'Query'
  | 'Scan'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'BatchWriteItem';

/**
 * What one function sends to a table: actions on the table's items, and queries of its
 * indexes. Each function's list is read from its code paths (infra/constructs/pipeline.ts).
 */
export interface TableAccess {
  items?: readonly ItemAction[];
  indexes?: readonly 'Query'[];
}

/** The table-name variables `readResources` (functions/commons/config.ts) reads. */
export const TABLE_ENVIRONMENT = {
  subscribers: ENV.subscribersTable,
  issues: ENV.issuesTable,
  deliveries: ENV.deliveriesTable,
  limits: ENV.limitsTable,
  counters: ENV.countersTable,
} as const;

export type TableName = keyof typeof TABLE_ENVIRONMENT;

function attribute(definition: TableDefinition, name: string): dynamodb.Attribute {
  const declared = definition.AttributeDefinitions?.find((candidate) => candidate.AttributeName === name);
  if (!declared) throw new Error(`table definition names key "${name}" without declaring its type`);
  const types = {
    S: dynamodb.AttributeType.STRING,
    N: dynamodb.AttributeType.NUMBER,
    B: dynamodb.AttributeType.BINARY,
  };
  return { name, type: types[declared.AttributeType as keyof typeof types] };
}

function keys(definition: TableDefinition, schema: CreateTableCommandInput['KeySchema']) {
  const hash = schema?.find((key) => key.KeyType === 'HASH')?.AttributeName;
  const range = schema?.find((key) => key.KeyType === 'RANGE')?.AttributeName;
  if (!hash) throw new Error('table definition has no HASH key');
  return { partitionKey: attribute(definition, hash), sortKey: range ? attribute(definition, range) : undefined };
}

/**
 * The three tables, built from the same CreateTable definitions the local stack uses, so the
 * keys and indexes the code queries on AWS are the ones it was tested against.
 *
 * TTL: the deliveries table on `expiresAt`, which the shared send-rate window items carry.
 * The subscribers table on `expiresAt` too, which only a pending signup carries (7 days after
 * signing up; confirming removes it): an unconfirmed address is deleted, while a subscriber's
 * item, the consent record, disappears only through `forget`. Issues get none (an issue item is
 * what stops a post being sent twice; expiring it would let a re-push send it again). The limits
 * table expires its signup limits on `expiresAt` too; its waiting confirmations and follow-ups
 * carry none and stay until sent.
 */
export class Tables extends Construct {
  readonly subscribers: dynamodb.Table;
  readonly issues: dynamodb.Table;
  readonly deliveries: dynamodb.Table;
  readonly limits: dynamodb.Table;
  /** Aggregate counters of posts and days; no reader in them, kept with the stack. */
  readonly counters: dynamodb.Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.subscribers = this.table('Subscribers', subscriberTableDefinition, {
      // Readers' addresses and consent records: survive a `cdk destroy` and a mistaken delete.
      removalPolicy: RemovalPolicy.RETAIN,
      deletionProtection: true,
      timeToLiveAttribute: SUBSCRIBERS_TTL_ATTRIBUTE,
    });
    this.issues = this.table('Issues', issuesTableDefinition, { removalPolicy: RemovalPolicy.DESTROY });
    this.deliveries = this.table('Deliveries', deliveriesTableDefinition, {
      removalPolicy: RemovalPolicy.DESTROY,
      timeToLiveAttribute: DELIVERIES_TTL_ATTRIBUTE,
    });
    this.limits = this.table('Limits', limitsTableDefinition, {
      removalPolicy: RemovalPolicy.DESTROY,
      timeToLiveAttribute: LIMITS_TTL_ATTRIBUTE,
    });
    this.counters = this.table('Counters', countersTableDefinition, { removalPolicy: RemovalPolicy.DESTROY });
  }

  private table(id: string, definition: TableDefinition, options: Partial<dynamodb.TableProps>): dynamodb.Table {
    const table = new dynamodb.Table(this, id, {
      ...keys(definition, definition.KeySchema),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      ...options,
    });
    for (const index of definition.GlobalSecondaryIndexes ?? []) {
      const projection = index.Projection?.ProjectionType ?? 'ALL';
      table.addGlobalSecondaryIndex({
        indexName: index.IndexName!,
        ...keys(definition, index.KeySchema),
        projectionType: projection as dynamodb.ProjectionType,
        nonKeyAttributes: index.Projection?.NonKeyAttributes,
      });
    }
    return table;
  }

  /**
   * Names `table` to `fn` through the variable `readResources` expects and allows exactly the
   * actions `access` lists: item actions on the table, queries on each of its indexes by name
   * (no `index/*`).
   */
  bind(fn: lambda.Function, name: TableName, access: TableAccess): void {
    const table = this[name];
    const definition = {
      subscribers: subscriberTableDefinition,
      issues: issuesTableDefinition,
      deliveries: deliveriesTableDefinition,
      limits: limitsTableDefinition,
      counters: countersTableDefinition,
    }[name];
    fn.addEnvironment(TABLE_ENVIRONMENT[name], table.tableName);
    const actions = (list: readonly string[]) => list.map((action) => `dynamodb:${action}`);
    if (access.items?.length)
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: actions(access.items), resources: [table.tableArn] }));
    const indexArns = (definition.GlobalSecondaryIndexes ?? []).map(
      (index) => `${table.tableArn}/index/${index.IndexName}`,
    );
    if (access.indexes?.length) {
      if (indexArns.length === 0) throw new Error(`the ${name} table has no index to query`);
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: actions(access.indexes), resources: indexArns }));
    }
  }
}
