import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { type Resources, readLimitsTable } from '../commons/config';
import { countersTableDefinition } from '../contract/counters-table';
import { deliveriesTableDefinition, issuesTableDefinition } from '../contract/delivery-tables';
import { limitsTableDefinition } from '../contract/limits-table';
import { subscriberTableDefinition } from '../contract/subscriber-table';

export interface LocalTable {
  name: string;
  definition: Omit<CreateTableCommandInput, 'TableName'>;
}

/** Every table the local stack creates on first start; a new table is one more line. */
export function localTables(resources: Resources): LocalTable[] {
  return [
    { name: resources.subscribersTable, definition: subscriberTableDefinition },
    { name: resources.issuesTable, definition: issuesTableDefinition },
    { name: resources.deliveriesTable, definition: deliveriesTableDefinition },
    { name: readLimitsTable(), definition: limitsTableDefinition },
    { name: resources.countersTable, definition: countersTableDefinition },
  ];
}
