/**
 * The sending pipeline on real stand-ins for the integration and fault tests: dynalite and
 * aws-ses-v2-local on free ports, real SDK clients, the project's own stores, and an
 * SQS-like queue with receive counts, partial batch failures and a dead-letter list.
 */

import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import sesServer from 'aws-ses-v2-local';
import dynalite from 'dynalite';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type CallBudget, dynamoClient, sesClient } from '../../functions/adapters/aws-clients';
import { DynamoIssueStore } from '../../functions/adapters/dynamodb/issue-store';
import { SharedRateLimiter } from '../../functions/adapters/dynamodb/shared-rate-limiter';
import { DynamoSubscriberStore } from '../../functions/adapters/dynamodb/subscriber-store';
import { SesMailer } from '../../functions/adapters/ses-mailer';
import type { Clock } from '../../functions/commons/clock';
import type { Queue } from '../../functions/commons/queue';
import type { DispatchJob, SendJob } from '../../functions/contract/messages';
import { DeliveryWorker, handleSendQueueEvent, jobsFromRecords } from '../../functions/delivery/delivery-worker';
import { type DispatchDependencies, dispatchIssue } from '../../functions/delivery/dispatcher';
import type { Delivery, IssueStore } from '../../functions/delivery/issues';
import { SEND_MAX_RECEIVES } from '../../functions/delivery/jobs';
import { localTables } from '../../functions/local/create-tables';
import { ensureTables } from '../../functions/local/dynalite-server';
import { LocalQueue } from '../../functions/local/local-queue';
import type { Mailer } from '../../functions/mail/mailer';
import { type CompiledMessage, compileMessage } from '../../functions/mail/message';
import { type RecipientLinks, UNSUBSCRIBE_URL_PLACEHOLDER } from '../../functions/render/types';
import { deriveKeys, SubscriberTokens } from '../../functions/subscribers/tokens';

export const PUBLIC_URL = 'http://newsletter.test';
export const CONFIGURATION_SET = 'pushletter-test';
const clock: Clock = { now: () => new Date() };

function listen(server: Server, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
}

export interface Stack {
  dynamoUrl: string;
  sesUrl: string;
  dynamo: DynamoDBClient;
  tables: { subscribersTable: string; issuesTable: string; deliveriesTable: string };
  subscribers: DynamoSubscriberStore;
  issues: IssueStore;
  masterKey: Buffer;
  /** A recipient's unsubscribe link, as the delivery worker fills it in. */
  recipientLinks(subscriberId: string): RecipientLinks;
  close(): Promise<void>;
}

export async function startStack(): Promise<Stack> {
  const database = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }) as unknown as Server;
  const dynamoPort = await listen(database);
  const mail = (await sesServer({ host: '127.0.0.1', port: 0 })) as Server;
  const sesPort = (mail.address() as AddressInfo).port;
  const dynamoUrl = `http://127.0.0.1:${dynamoPort}`;
  const dynamo = dynamoClient({ dynamodb: dynamoUrl });
  const tables = { subscribersTable: 'subscribers', issuesTable: 'issues', deliveriesTable: 'deliveries' };
  await ensureTables(dynamo, localTables(tables));
  const masterKey = randomBytes(32);
  const keys = deriveKeys(masterKey);
  const subscribers = new DynamoSubscriberStore({
    client: dynamo,
    tableName: tables.subscribersTable,
    idKey: keys.idKey,
    listName: 'newsletter',
    clock,
  });
  const tokens = new SubscriberTokens(keys.tokenKey, clock);
  return {
    dynamoUrl,
    sesUrl: `http://127.0.0.1:${sesPort}`,
    dynamo,
    tables,
    subscribers,
    issues: new DynamoIssueStore(dynamo, tables),
    masterKey,
    recipientLinks: (id) => ({
      [UNSUBSCRIBE_URL_PLACEHOLDER]: `${PUBLIC_URL}/unsubscribe?token=${tokens.issue('unsubscribe', id)}`,
    }),
    async close() {
      dynamo.destroy();
      await close(mail);
      await close(database);
    },
  };
}

/** Active (and some other) subscribers, written through the subscriber store itself. */
export async function seedSubscribers(
  stack: Stack,
  count: number,
  stateOf: (index: number) => 'active' | 'pending' = () => 'active',
): Promise<{ id: string; email: string; state: string }[]> {
  const people = Array.from({ length: count }, (_, index) => ({
    email: `reader${index}@example.com`,
    state: stateOf(index),
  }));
  const created: { id: string; email: string; state: string }[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < people.length) {
      const index = next++;
      const person = people[index]!;
      const { id } = await stack.subscribers.createIfAbsent({
        email: person.email,
        state: person.state,
        consent: { at: new Date().toISOString(), source: 'import' },
      });
      created[index] = { id, email: person.email, state: person.state };
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return created;
}

/**
 * One stack for the whole test file with `count` active subscribers, closed after the file and
 * with the SES inbox emptied before each test; `ready` hands both to the file once started.
 */
export function useSeededStack(
  count: number,
  ready: (seeded: { stack: Stack; people: { id: string; email: string; state: string }[] }) => void,
): void {
  let stack: Stack | undefined;
  beforeAll(async () => {
    stack = await startStack();
    ready({ stack, people: await seedSubscribers(stack, count) });
  });
  afterAll(async () => {
    await stack?.close();
  });
  beforeEach(async () => {
    if (stack !== undefined) await clearEmails(stack.sesUrl);
  });
}

/**
 * The production mailer (SendRawEmail with the configuration set and tags) on a real SES client;
 * `budget` changes how long a call may take (the pipeline's by default).
 */
export function sesMailer(endpoint: string, budget?: CallBudget): Mailer {
  return new SesMailer(sesClient({ ses: endpoint }, budget), CONFIGURATION_SET);
}

export interface StoredEmail {
  messageId: string;
  destination: { to: string[] };
  subject: string;
  body: { text?: string; html?: string };
}

export async function storedEmails(sesUrl: string): Promise<StoredEmail[]> {
  const response = await fetch(`${sesUrl}/store`);
  return ((await response.json()) as { emails: StoredEmail[] }).emails;
}

export async function clearEmails(sesUrl: string): Promise<void> {
  await fetch(`${sesUrl}/clear-store`, { method: 'POST' });
}

/** Recipient address -> copies the emulator holds. */
export function copiesByAddress(emails: StoredEmail[]): Map<string, number> {
  const copies = new Map<string, number>();
  for (const email of emails) {
    for (const to of email.destination.to) {
      const address = to.replace(/^.*<([^>]+)>.*$/, '$1').toLowerCase();
      copies.set(address, (copies.get(address) ?? 0) + 1);
    }
  }
  return copies;
}

export function testMessage(subject = '测试通讯 pushletter'): CompiledMessage {
  const html = `<html><body><h1>${subject}</h1><p>你好，读者。这是一封测试邮件。</p><a href="${UNSUBSCRIBE_URL_PLACEHOLDER}">退订</a></body></html>`;
  const text = `${subject}\n\n你好，读者。这是一封测试邮件。\n\n退订: ${UNSUBSCRIBE_URL_PLACEHOLDER}\n`;
  return compileMessage(
    { subject, html, text, lang: 'zh-CN' },
    { fromAddress: 'newsletter@example.com', fromName: 'pushletter' },
    {
      listId: 'newsletter.example.com',
      listUnsubscribe: { urlPlaceholder: UNSUBSCRIBE_URL_PLACEHOLDER },
      placeholders: [UNSUBSCRIBE_URL_PLACEHOLDER],
    },
  );
}

export interface QueueRecord {
  messageId: string;
  body: string;
  receiveCount: number;
}

/**
 * Behaves like SQS for a Lambda consumer: batches of up to `batchSize`, a message listed in
 * batchItemFailures comes back with its receive count raised, and after `maxReceives` it goes
 * to the dead-letter list. A consumer that throws fails its whole batch.
 */
export class TestQueue<T> implements Queue<T> {
  readonly dead: QueueRecord[] = [];
  private pending: QueueRecord[] = [];
  private sequence = 0;
  sentMessages = 0;

  constructor(private readonly options: { batchSize?: number; maxReceives?: number } = {}) {}

  async send(messages: T[]): Promise<void> {
    if (messages.length > 10) throw new Error(`SendMessageBatch takes at most 10 messages, got ${messages.length}`);
    for (const message of messages) {
      this.pending.push({ messageId: `message-${++this.sequence}`, body: JSON.stringify(message), receiveCount: 0 });
      this.sentMessages++;
    }
  }

  get size(): number {
    return this.pending.length;
  }

  /** Takes the next batch off the queue, counting the receive (like a visibility timeout). */
  receive(): QueueRecord[] {
    const batch = this.pending.splice(0, this.options.batchSize ?? 10);
    for (const record of batch) record.receiveCount++;
    return batch;
  }

  /** Puts records back (failed, or their consumer died). */
  returnToQueue(records: QueueRecord[]): void {
    for (const record of records) {
      if (record.receiveCount >= (this.options.maxReceives ?? 5)) this.dead.push(record);
      else this.pending.push(record);
    }
  }

  /** Runs the consumer until the queue is empty, `parallel` batches at a time. */
  async drain(consumer: (records: QueueRecord[]) => Promise<string[]>, parallel = 2): Promise<void> {
    const run = async () => {
      for (;;) {
        const batch = this.receive();
        if (batch.length === 0) return;
        let failed: Set<string>;
        try {
          failed = new Set(await consumer(batch));
        } catch {
          failed = new Set(batch.map((record) => record.messageId));
        }
        this.returnToQueue(batch.filter((record) => failed.has(record.messageId)));
      }
    };
    while (this.pending.length > 0) await Promise.all(Array.from({ length: parallel }, run));
  }
}

export type FaultDecision = { status: number; body: string } | undefined;

/**
 * An HTTP proxy in front of the SES emulator: `decide` sees each request's form fields and may
 * answer in SES's place with an error, the way real SES answers.
 */
export async function startFaultProxy(
  target: string,
  decide: (form: URLSearchParams) => FaultDecision,
  options: {
    responseDelayMs?: number;
    /**
     * Answers this many forwarded requests, then forwards the rest without ever answering: SES
     * has those messages and their sender never learns it, until the test ends it.
     */
    answerOnly?: number;
  } = {},
): Promise<{ url: string; calls: number; faults: number; unanswered: number; close(): Promise<void> }> {
  const state = { calls: 0, faults: 0, forwarded: 0, unanswered: 0 };
  const targetUrl = new URL(target);
  const server = createServer((incoming: IncomingMessage, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      state.calls++;
      const fault = decide(new URLSearchParams(body.toString('utf8')));
      if (fault !== undefined) {
        state.faults++;
        outgoing.writeHead(fault.status, { 'content-type': 'text/xml' });
        outgoing.end(fault.body);
        return;
      }
      const answered = options.answerOnly === undefined || state.forwarded++ < options.answerOnly;
      const forward = httpRequest(
        {
          host: targetUrl.hostname,
          port: targetUrl.port,
          path: incoming.url,
          method: incoming.method,
          headers: incoming.headers,
        },
        (response) => {
          if (!answered) {
            response.resume();
            response.on('end', () => state.unanswered++);
            return;
          }
          // SES has the message by now; a slow answer widens the window a crash can fall into.
          setTimeout(() => {
            outgoing.writeHead(response.statusCode ?? 502, response.headers);
            response.pipe(outgoing);
          }, options.responseDelayMs ?? 0);
        },
      );
      forward.on('error', () => {
        outgoing.writeHead(502);
        outgoing.end();
      });
      forward.end(body);
    });
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    get calls() {
      return state.calls;
    },
    get faults() {
      return state.faults;
    },
    /** Requests SES answered that the proxy keeps unanswered (see `answerOnly`). */
    get unanswered() {
      return state.unanswered;
    },
    close: () => close(server),
  };
}

/** An SES query-protocol error response, as SES sends it. */
export function sesError(
  status: number,
  code: string,
  message: string,
  type: 'Sender' | 'Receiver' = 'Sender',
): { status: number; body: string } {
  return {
    status,
    body: `<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomBytes(8).toString('hex')}</RequestId></ErrorResponse>`,
  };
}

/** The recipient address inside a SendRawEmail request. */
export function recipientOf(form: URLSearchParams): string | undefined {
  return form.get('Destinations.member.1') ?? undefined;
}

export interface PipelineOptions {
  mailer?: Mailer;
  rate?: number;
  concurrency?: number;
  pageSize?: number;
  /** DeliveryWorker invocations running at once (Lambda concurrency). */
  senders?: number;
}

/**
 * Dispatcher and sender wired as the local composition wires them: the send queue is the
 * project's LocalQueue (SQS semantics: partial batch failures, redelivery, DLQ) consumed by the
 * send Lambda's handler code.
 */
export function pipeline(stack: Stack, options: PipelineOptions = {}) {
  const sendQueue = new LocalQueue<SendJob>({
    name: 'send',
    batchSize: 1,
    concurrency: options.senders ?? 3,
    retryDelayMs: 50,
    maxReceives: SEND_MAX_RECEIVES,
  });
  const sent = { messages: 0, jobs: [] as SendJob[] };
  const countingQueue: Queue<SendJob> = {
    send: async (messages) => {
      if (messages.length > 10) throw new Error(`SendMessageBatch takes at most 10 messages, got ${messages.length}`);
      sent.messages += messages.length;
      sent.jobs.push(...messages);
      await sendQueue.send(messages);
    },
  };
  const dispatchQueue = new TestQueue<DispatchJob>();
  const rateLimiter = new SharedRateLimiter({
    dynamo: stack.dynamo,
    table: stack.tables.deliveriesTable,
    rate: options.rate ?? 2_000,
  });
  const sender = new DeliveryWorker(
    {
      issues: stack.issues,
      subscribers: stack.subscribers,
      recipientLinks: stack.recipientLinks,
      mailer: options.mailer ?? sesMailer(stack.sesUrl),
      rateLimiter,
      clock,
    },
    { concurrency: options.concurrency ?? 16, backoffMs: 20 },
  );
  sendQueue.consume((event) => handleSendQueueEvent(sender, event));
  const dispatchPorts: DispatchDependencies = {
    issues: stack.issues,
    subscribers: stack.subscribers,
    sendQueue: countingQueue,
    dispatchQueue,
    clock,
  };
  return {
    sendQueue,
    sent,
    dispatchQueue,
    sender,
    dispatchPorts,
    dispatch: (postId: string) => dispatchIssue(dispatchPorts, postId, { pageSize: options.pageSize ?? 500 }),
    /** Runs records through the sender directly, as one Lambda invocation would. */
    consume: async (records: { messageId: string; body: string }[]) =>
      (await sender.sendBatch(jobsFromRecords(records))).retryMessageIds,
    idle: () => sendQueue.idle(),
  };
}

export async function createIssue(
  stack: Stack,
  postId: string,
  message: CompiledMessage = testMessage(),
): Promise<'created' | 'exists'> {
  return stack.issues.createIssue({
    postId,
    title: 'Test post',
    subject: 'Test post',
    state: 'dispatching',
    sendAt: new Date().toISOString(),
    message,
    source: 'test',
  });
}

/**
 * A created issue dispatched into a capturing queue instead of the senders: the test gets its
 * records as one batch (up to 100 messages, all of a few hundred subscribers) to hand to
 * senders as it likes.
 */
export async function dispatchedBatch(
  stack: Stack,
  postId: string,
): Promise<{ run: ReturnType<typeof pipeline>; batch: QueueRecord[] }> {
  await createIssue(stack, postId);
  const captured = new TestQueue<SendJob>({ batchSize: 100 });
  const run = pipeline(stack);
  await dispatchIssue({ ...run.dispatchPorts, sendQueue: captured }, postId);
  return { run, batch: captured.receive() };
}

/** Every delivery of a post by subscriber id. */
export async function deliveriesOf(stack: Stack, postId: string): Promise<Map<string, Delivery>> {
  const all = new Map<string, Delivery>();
  for await (const page of stack.issues.deliveries(postId))
    for (const delivery of page) all.set(delivery.subscriberId, delivery);
  return all;
}
