import { gunzipSync, gzipSync } from 'node:zlib';
import { type AttributeValue, type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { WELCOME_ISSUE_ID } from '../../contract/delivery-tables';
import type { WelcomeStore } from '../../publishing/welcome';
import type { StoredWelcome, WelcomeSource } from '../../subscribers/welcome-email';
import { isConditionFailure } from './requests';

/**
 * The blog's welcome email as one item of the issues table (WELCOME_ISSUE_ID), its compiled
 * message gzipped like a post's. Ingest writes it, the API reads it.
 */
export class DynamoWelcomeStore implements WelcomeSource, WelcomeStore {
  constructor(
    private readonly client: DynamoDBClient,
    /** Read when first used: only the functions granted the issues table name it. */
    private readonly tables: { readonly issuesTable: string },
  ) {}

  async current(): Promise<StoredWelcome | undefined> {
    const result = await this.client.send(
      new GetItemCommand({ TableName: this.tables.issuesTable, Key: { postId: { S: WELCOME_ISSUE_ID } } }),
    );
    const item = result.Item;
    if (item?.message?.B === undefined) return undefined;
    return {
      subject: item.subject?.S ?? '',
      lang: item.lang?.S ?? '',
      source: item.source?.S ?? '',
      message: JSON.parse(gunzipSync(item.message.B).toString('utf8')),
    };
  }

  async save(welcome: StoredWelcome | undefined, readAt: string): Promise<'saved' | 'stale'> {
    const item: Record<string, AttributeValue> = { postId: { S: WELCOME_ISSUE_ID }, readAt: { S: readAt } };
    if (welcome !== undefined) {
      item.subject = { S: welcome.subject };
      item.lang = { S: welcome.lang };
      item.source = { S: welcome.source };
      item.message = { B: gzipSync(Buffer.from(JSON.stringify(welcome.message))) };
    }
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tables.issuesTable,
          Item: item,
          // Pushes can be ingested out of order: an older one must not undo a newer one.
          ConditionExpression: 'attribute_not_exists(readAt) OR readAt <= :readAt',
          ExpressionAttributeValues: { ':readAt': { S: readAt } },
        }),
      );
      return 'saved';
    } catch (error) {
      if (isConditionFailure(error)) return 'stale';
      throw error;
    }
  }
}
