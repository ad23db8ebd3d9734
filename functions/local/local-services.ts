import { readFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { dynamoClient, sesClient } from '../adapters/aws-clients';
import { MemoryCounterStore } from '../adapters/memory/memory-counter-store';
import { type Clock, systemClock } from '../commons/clock';
import {
  type Resources,
  readDataDir,
  readEnv,
  readLocalPorts,
  readResources,
  readSettings,
  type Settings,
  withSiteIdentity,
} from '../commons/config';
import { PushletterError } from '../commons/errors';
import { logger } from '../commons/logger';
import { settleEachRecord } from '../commons/queue';
import { parseSecrets, type Secrets } from '../commons/secrets';
import { ENV } from '../contract/env';
import type { DispatchJob, SendJob } from '../contract/messages';
import { handleSendQueueEvent } from '../delivery/delivery-worker';
import { dispatchIssue } from '../delivery/dispatcher';
import { parseDispatchJob, SEND_MAX_RECEIVES } from '../delivery/jobs';
import { SendQueueDrain } from '../local/send-drain';
import { readSiteIdentity } from '../local/site-identity';
import { BufferedCounterStore } from '../stats/buffered-counters';
import type { CounterStore } from '../stats/counters';
import { buildCoreServices, type CoreServices } from '../wiring/core-services';
import { buildSendingServices, type SendingServices } from '../wiring/sending-services';
import { signupProtection } from '../wiring/signup';
import { LocalQueue } from './local-queue';
import { SendResumption } from './send-resumption';

/**
 * Services against the local stand-ins: the dev server builds them around the dynalite and SES
 * emulator it started, CLI commands build them against a stack running in another terminal,
 * and tests against a stack they started on free ports.
 */
export type LocalServices = CoreServices & {
  secrets: Secrets;
  /** Where the click redirect and open pixel count: gathered for a moment, then written (flush on stop). */
  clicks: BufferedCounterStore;
};

export interface LocalInputs {
  endpoints: { dynamodb: string; ses: string };
  settings: Settings;
  resources: Resources;
  secrets: Secrets;
  clock?: Clock;
  /** Where everything is counted; the local counters table unless given. */
  counters?: CounterStore;
}

export function createLocalServices(inputs: LocalInputs): LocalServices {
  const core = buildCoreServices({
    dynamo: dynamoClient({ dynamodb: inputs.endpoints.dynamodb }),
    ses: sesClient({ ses: inputs.endpoints.ses }),
    settings: inputs.settings,
    resources: inputs.resources,
    secrets: inputs.secrets,
    clock: inputs.clock ?? systemClock,
    protection: signupProtection,
    counters: inputs.counters,
  });
  // A server that outlives its requests answers a click before its count is written.
  const clicks = new BufferedCounterStore(core.counters);
  const http = core.http.tracking ? { ...core.http, tracking: { ...core.http.tracking, counters: clicks } } : core.http;
  // Locally one file holds every secret; the local stack's webhook and ingest read theirs here.
  return { ...core, http, clicks, secrets: inputs.secrets };
}

/**
 * The grace period before a copy in doubt is sent again, locally, unless
 * PUSHLETTER_RESEND_AFTER_SECONDS says otherwise: the emulator records a copy before it answers
 * and publishes its Send event right after, so the longest wait is one SES call's timeout
 * (10 s); and a restart decides a dead process's copies at once anyway.
 */
export const LOCAL_RESEND_AFTER_SECONDS = 60;

/**
 * Links in local emails point at the local server, wherever PORT put it, unless
 * PUSHLETTER_PUBLIC_URL says otherwise (a tunnel, say).
 */
export function localSettings(settings: Settings, httpPort: number): Settings {
  return {
    ...settings,
    ...(readEnv(ENV.publicUrl) === undefined ? { publicUrl: `http://localhost:${httpPort}` } : {}),
    ...(readEnv(ENV.resendAfterSeconds) === undefined ? { resendAfterSeconds: LOCAL_RESEND_AFTER_SECONDS } : {}),
  };
}

/**
 * On loopback a port nobody listens on refuses at once, so the limit only matters for a stack
 * that answers slowly: a busy machine can hold a connect longer than a second, which must not
 * read as "no stack running" (it once did, under a second test suite).
 */
const CONNECT_TIMEOUT_MS = 10_000;

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(CONNECT_TIMEOUT_MS);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * For CLI commands: the ports of the stack `pushletter dev` runs, found through PORT,
 * SES_PORT, DYNAMODB_PORT and its secrets in the data folder. Says how to start one if none
 * is running.
 */
export async function connectToLocalStack(): Promise<LocalServices> {
  const ports = readLocalPorts();
  const dataDir = readDataDir();
  if (!(await answers(ports.dynamodb))) {
    throw new PushletterError(
      'LOCAL_STACK_NOT_RUNNING',
      `no local stack answers on port ${ports.dynamodb} (DYNAMODB_PORT). Start one with \`npx pushletter dev\` in another terminal (same folder), then run this again.`,
    );
  }
  const secretsFile = join(dataDir, 'secrets.json');
  let secretsText: string;
  try {
    secretsText = await readFile(secretsFile, 'utf8');
  } catch {
    throw new PushletterError(
      'LOCAL_SECRETS_MISSING',
      `${secretsFile} is missing; run this from the folder where \`npx pushletter dev\` runs (or set PUSHLETTER_DATA_DIR).`,
    );
  }
  const settings = localSettings(readSettings(), ports.http);
  const identity = await readSiteIdentity(dataDir);
  return createLocalServices({
    endpoints: { dynamodb: `http://127.0.0.1:${ports.dynamodb}`, ses: `http://127.0.0.1:${ports.ses}` },
    settings: identity === undefined ? settings : withSiteIdentity(settings, identity),
    resources: readResources(),
    secrets: parseSecrets(secretsText, secretsFile),
  });
}

/**
 * The sending pipeline on the local stack: in-process queues that call the same handlers the
 * Lambdas run (dispatch, send), with SQS's partial batch failures, redelivery and DLQ.
 */
export interface LocalSending extends SendingServices {
  sendQueue: LocalQueue<SendJob>;
  dispatchQueue: LocalQueue<DispatchJob>;
  /** Resolves when every queued dispatch and send is done (or dead-lettered). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `sendEvents`: the stack's SES emulator publishes Send events, durably (local/ses.ts), and
 * every claim older than this start belongs to a process that is gone: those recipients are
 * decided as soon as a message names them.
 */
export async function startLocalSending(
  composition: LocalServices,
  options: { concurrency?: number; retryDelayMs?: number; sendEvents?: boolean } = {},
): Promise<LocalSending> {
  // The queue lives in this process: each post is marked once its jobs are all done, so a
  // restart after a crash can tell which posts may have lost jobs (local/ingest.ts).
  const sendQueue = new LocalQueue<SendJob>({
    name: 'send',
    batchSize: 1,
    concurrency: 4,
    retryDelayMs: options.retryDelayMs ?? 1_000,
    maxReceives: SEND_MAX_RECEIVES,
    groupOf: (job) => job.postId,
    onSettled: (settled) => drain.settled(settled),
  });
  const drain = new SendQueueDrain(
    new SendResumption(composition.dynamo, composition.resources.issuesTable),
    (postId) => sendQueue.pendingIn(postId),
    composition.clock,
  );
  const dispatchQueue = new LocalQueue<DispatchJob>({
    name: 'dispatch',
    batchSize: 1,
    concurrency: 1,
    retryDelayMs: options.retryDelayMs ?? 1_000,
    maxReceives: 3,
  });
  const sending = await buildSendingServices(
    composition,
    { sendQueue, dispatchQueue },
    {
      askQuota: false,
      concurrency: options.concurrency,
      sendEvents: options.sendEvents ? { holdersGoneBefore: composition.clock.now().getTime() } : undefined,
    },
  );
  sendQueue.consume((event) => handleSendQueueEvent(sending.sender, event));
  dispatchQueue.consume((event) =>
    settleEachRecord(event, async (record) => {
      const job = parseDispatchJob(record.body);
      if (job === undefined) {
        logger.error('issue.dispatch.malformed', { messageId: record.messageId });
        return;
      }
      try {
        const outcome = await dispatchIssue(sending.dispatch, job.postId);
        if (outcome.status === 'dispatched') await drain.dispatched(job.postId);
      } catch (error) {
        // Redelivered by the queue; the dispatcher resumes from its checkpoint.
        logger.warn('issue.dispatch.retry', { postId: job.postId, error: (error as Error).message });
        throw error;
      }
    }),
  );
  return {
    ...sending,
    sendQueue,
    dispatchQueue,
    async idle() {
      // A dispatch fills the send queue; wait until both are quiet together.
      while (dispatchQueue.pending > 0 || sendQueue.pending > 0) {
        await dispatchQueue.idle();
        await sendQueue.idle();
      }
    },
    async stop() {
      await dispatchQueue.stop();
      await sendQueue.stop();
      // A mark still being written when the database closes would fail the whole process.
      await drain.settledWrites();
    },
  };
}
