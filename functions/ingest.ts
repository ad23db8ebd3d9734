import { lambdaIngestPorts } from './compose/lambda';
import { createIngestHandler } from './sending/ingest-worker';

/**
 * The ingest Lambda, fed by the ingest queue the webhook fills: reads each pushed post at its
 * commit from GitHub, renders it once, records the issue, and starts or schedules its send
 * (see functions/sending/ingest.ts). GitHub outages come back through SQS partial batch
 * failures; everything else is settled per message.
 */
export const handler = createIngestHandler(lambdaIngestPorts);
