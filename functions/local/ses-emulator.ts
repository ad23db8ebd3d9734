import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import sesModule from 'aws-ses-v2-local';
import { clearStore, type Email, getStoreReadonly } from 'aws-ses-v2-local/dist/store.js';
import { errorMessage } from '../commons/errors';
import { logger } from '../commons/logger';
import { close, listen } from './listen';

// A CommonJS module with `exports.default`: depending on the loader, the default import is the
// function or the whole exports object.
type StartEmulator = typeof sesModule;
const startEmulator: StartEmulator =
  typeof sesModule === 'function' ? sesModule : (sesModule as unknown as { default: StartEmulator }).default;

/** A message the emulator accepted, as SES describes it in a Send event. */
export interface AcceptedMessage {
  messageId: string;
  /** ISO time it was accepted. */
  timestamp: string;
  destination: string[];
  /** The SendRawEmail request's message tags. */
  tags: Record<string, string>;
}

export interface LocalSes {
  /** Web inbox at `/`, JSON at `/store`; also the SES endpoint. */
  url: string;
  port: number;
  /** The file the inbox is kept in between starts (one JSON line per message). */
  inboxFile: string;
  /**
   * Hands every accepted message to `publish`, as SES hands Send events to the configuration
   * set's topic: first the messages accepted before a crash whose event was never recorded,
   * then each new one as it is accepted. Resolves once the former are published.
   */
  publishAcceptedTo(publish: (message: AcceptedMessage) => Promise<void>): Promise<void>;
  /** Resolves when no Send event is being published. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/** One inbox line: a message and its tags, or the mark that its Send event was recorded. */
type InboxLine = { email: Email; tags: Record<string, string> } | { recorded: string };

const SEND_ACTIONS = new Set(['SendRawEmail', 'SendEmail']);

/**
 * aws-ses-v2-local with its web inbox, kept in `inboxFile` across restarts: the emulator holds
 * mail in memory only, so it runs on an internal port behind a small proxy of ours that appends
 * each accepted message to the file before SES's answer reaches the sender. A copy is in the
 * inbox if and only if it is in the file, which is what makes the local stack's Send events
 * (and so the resolution of a crashed sender's recipients) as durable as SES's.
 *
 * The emulator listens without handling errors (a port in use would crash the process), so the
 * public port is ours, bound first.
 */
export async function startSesEmulator(options: {
  port: number;
  setting: string;
  inboxFile: string;
}): Promise<LocalSes> {
  const { inboxFile } = options;
  const front: Server = createServer((incoming, outgoing) => void forward(incoming, outgoing));
  // The SDK keeps idle connections open; a server closing them first (Node's default: after 5 s)
  // races the sender's next call, which then fails with ECONNRESET and leaves its copy in doubt.
  front.keepAliveTimeout = 10 * 60 * 1000;
  const port = await listen(front, options.port, options.setting);
  let emulator: Server;
  try {
    emulator = (await startEmulator({ host: '127.0.0.1', port: 0 })) as Server;
  } catch (error) {
    await close(front);
    throw error;
  }
  const emulatorPort = (emulator.address() as AddressInfo).port;
  emulator.keepAliveTimeout = front.keepAliveTimeout;

  // The emulator's store is one per process, and outlives a stack stopped in it (tests start
  // several): the file alone says what this inbox holds. Read each time: clearing replaces it.
  clearStore();
  const emails = () => getStoreReadonly().emails as Email[];
  const unpublished = new Map<string, AcceptedMessage>();
  for (const line of readInbox(inboxFile)) {
    if ('recorded' in line) unpublished.delete(line.recorded);
    else {
      emails().push(line.email);
      if (Object.keys(line.tags).length > 0) unpublished.set(line.email.messageId, acceptedOf(line.email, line.tags));
    }
  }
  if (emails().length > 0) logger.info('local.inbox_loaded', { messages: emails().length, file: inboxFile });

  let publisher: ((message: AcceptedMessage) => Promise<void>) | undefined;
  const publishing = new Set<Promise<void>>();
  const publish = (message: AcceptedMessage): Promise<void> => {
    const work = publisher!(message).then(
      () => append(inboxFile, { recorded: message.messageId }),
      // Not marked: the next start publishes it again (the handler is idempotent).
      (error: unknown) =>
        logger.error('local.send_event_failed', { messageId: message.messageId, error: errorMessage(error) }),
    );
    publishing.add(work);
    void work.finally(() => publishing.delete(work));
    return work;
  };

  async function forward(incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
    const body = await readAll(incoming);
    const form =
      incoming.method === 'POST' && incoming.url === '/' ? new URLSearchParams(body.toString('utf8')) : undefined;
    if (incoming.method === 'POST' && incoming.url === '/clear-store') writeFileSync(inboxFile, '');
    const send = (retried: boolean) => {
      const forwarded = httpRequest({
        host: '127.0.0.1',
        port: emulatorPort,
        path: incoming.url,
        method: incoming.method,
        headers: incoming.headers,
      });
      forwarded.on('error', (error: NodeJS.ErrnoException) => {
        // A kept-alive connection the emulator closed as it was reused: nothing reached it.
        if (!retried && forwarded.reusedSocket && error.code === 'ECONNRESET') return send(true);
        logger.error('local.ses_proxy_failed', { error: errorMessage(error) });
        if (!outgoing.headersSent) outgoing.writeHead(502);
        outgoing.end();
      });
      forwarded.on('response', (response) => void answer(response));
      forwarded.end(body);
    };
    const answer = async (response: IncomingMessage) => {
      const text = await readAll(response);
      let accepted: AcceptedMessage | undefined;
      if (form !== undefined && response.statusCode === 200 && SEND_ACTIONS.has(form.get('Action') ?? '')) {
        const messageId = /<MessageId>([^<]+)<\/MessageId>/.exec(text.toString('utf8'))?.[1];
        const email = messageId === undefined ? undefined : findEmail(emails(), messageId);
        if (email !== undefined) {
          const tags = tagsOf(form);
          // Written before the sender hears of it: a crash after this line leaves a copy that
          // the next start still shows and still reports.
          append(inboxFile, { email, tags });
          if (Object.keys(tags).length > 0) accepted = acceptedOf(email, tags);
        }
      }
      outgoing.writeHead(response.statusCode ?? 502, response.headers);
      outgoing.end(text);
      if (accepted !== undefined) {
        if (publisher === undefined) unpublished.set(accepted.messageId, accepted);
        else void publish(accepted);
      }
    };
    send(false);
  }

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    inboxFile,
    async publishAcceptedTo(handler) {
      publisher = handler;
      const waiting = [...unpublished.values()];
      unpublished.clear();
      if (waiting.length > 0) logger.info('local.send_events_replayed', { messages: waiting.length });
      for (const message of waiting) await publish(message);
    },
    async settled() {
      while (publishing.size > 0) await Promise.all([...publishing]);
    },
    async stop() {
      await close(front);
      await close(emulator);
    },
  };
}

function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function append(file: string, line: InboxLine): void {
  appendFileSync(file, `${JSON.stringify(line)}\n`);
}

/** The inbox's lines; a line cut short by a crash mid-write is skipped. */
function readInbox(file: string): InboxLine[] {
  if (!existsSync(file)) return [];
  const lines: InboxLine[] = [];
  for (const text of readFileSync(file, 'utf8').split('\n')) {
    if (text.trim() === '') continue;
    try {
      lines.push(JSON.parse(text) as InboxLine);
    } catch {
      logger.warn('local.inbox_line_skipped', { file });
    }
  }
  return lines;
}

/** The newest message with this id (a message just accepted is at the end). */
function findEmail(store: Email[], messageId: string): Email | undefined {
  for (let index = store.length - 1; index >= 0; index--)
    if (store[index]!.messageId === messageId) return store[index];
  return undefined;
}

/** SES query-protocol tags: `Tags.member.N.Name` and `Tags.member.N.Value`. */
function tagsOf(form: URLSearchParams): Record<string, string> {
  const tags: Record<string, string> = {};
  for (let index = 1; form.has(`Tags.member.${index}.Name`); index++) {
    tags[form.get(`Tags.member.${index}.Name`)!] = form.get(`Tags.member.${index}.Value`) ?? '';
  }
  return tags;
}

function acceptedOf(email: Email, tags: Record<string, string>): AcceptedMessage {
  return {
    messageId: email.messageId,
    timestamp: new Date(email.at * 1000).toISOString(),
    destination: email.destination.to,
    tags,
  };
}

/**
 * The emulator puts every message it accepts in its inbox: SES's Send and then Delivery
 * events for it, as one SNS-shaped event, so the local stack counts deliveries as AWS does.
 */
export function sendAndDeliveryEventsOf(
  message: AcceptedMessage,
  configurationSet?: string,
): { Records: { Sns: { MessageId: string; Message: string } }[] } {
  const [send] = sendEventOf(message, configurationSet).Records;
  const { send: _send, ...notification } = JSON.parse(send!.Sns.Message) as Record<string, unknown>;
  const delivered = { ...notification, eventType: 'Delivery', delivery: { timestamp: message.timestamp } };
  return {
    Records: [send!, { Sns: { MessageId: `local-delivery-${message.messageId}`, Message: JSON.stringify(delivered) } }],
  };
}

/** The SNS-delivered event SES publishes for a message it accepted (eventType `Send`). */
export function sendEventOf(
  message: AcceptedMessage,
  configurationSet?: string,
): { Records: { Sns: { MessageId: string; Message: string } }[] } {
  const tags = Object.fromEntries(Object.entries(message.tags).map(([name, value]) => [name, [value]]));
  if (configurationSet !== undefined) tags['ses:configuration-set'] = [configurationSet];
  const notification = {
    eventType: 'Send',
    mail: { timestamp: message.timestamp, messageId: message.messageId, destination: message.destination, tags },
    send: {},
  };
  return { Records: [{ Sns: { MessageId: `local-${message.messageId}`, Message: JSON.stringify(notification) } }] };
}
