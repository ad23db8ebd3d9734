import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Clock } from '../../functions/commons/clock';
import { readSettings, type Settings } from '../../functions/commons/config';
import { type LocalStack, type StartLocalStackOptions, startLocalStack } from '../../functions/local/stack';

/** A clock the test can move forward (token expiry, the confirmation rate limit). */
export class TestClock implements Clock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

export interface TestStack extends LocalStack {
  clock: TestClock;
  dataDir: string;
  /** Stops the stack and removes its data folder. */
  dispose(): Promise<void>;
}

export const SITE_URL = 'https://blog.example.org';

/**
 * Every request of a test comes from 127.0.0.1, and most tests sign up many addresses: the
 * per-client and per-mailbox limits are off unless a test turns them on (`signupSettings`).
 */
export function testSettings(overrides: Partial<Settings> = {}): Settings {
  return {
    ...readSettings({
      PUSHLETTER_SITE_URL: SITE_URL,
      PUSHLETTER_SITE_TITLE: 'Example Blog',
      PUSHLETTER_SIGNUP_LIMITS: 'off',
    }),
    ...overrides,
  };
}

/** The whole local stack on free ports in a fresh folder, as `pushletter dev` runs it. */
export async function startTestStack(
  settings: Partial<Settings> = {},
  options: Pick<StartLocalStackOptions, 'blog'> = {},
): Promise<TestStack> {
  const dataDir = await mkdtemp(join(tmpdir(), 'pushletter-http-'));
  const clock = new TestClock();
  const stack = await startLocalStack({
    dataDir,
    ports: { http: 0, ses: 0, dynamodb: 0 },
    settings: testSettings(settings),
    clock,
    ...options,
  });
  return {
    ...stack,
    clock,
    dataDir,
    dispose: async () => {
      await stack.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface InboxEmail {
  messageId: string;
  from: string;
  destination: { to: string[] };
  subject: string;
  body: { text?: string; html?: string };
}

/** The SES emulator's store (what its web inbox shows). */
export async function inbox(stack: LocalStack, to?: string): Promise<InboxEmail[]> {
  const response = await fetch(`${stack.urls.inbox.replace('localhost', '127.0.0.1')}/store`);
  const { emails } = (await response.json()) as { emails: InboxEmail[] };
  return to === undefined
    ? emails
    : emails.filter((email) => email.destination.to.some((address) => address.includes(to)));
}

/** Pressing the button on the page behind a confirmation link (what a reader does). */
export function pressConfirm(link: string): Promise<Response> {
  return postForm(link, {});
}

/** The confirmation link of the latest email to `to` that has one (a welcome email follows confirming). */
export async function confirmLink(stack: LocalStack, to: string): Promise<string> {
  const emails = await inbox(stack, to);
  const links = emails.map((email) => /https?:\/\/\S+\/confirm\?token=\S+/.exec(email.body.text ?? '')?.[0]);
  const link = links.filter((found) => found !== undefined).at(-1);
  if (link === undefined) throw new Error(`no confirmation link in the inbox for ${to} (${emails.length} emails)`);
  return link;
}

export function postForm(
  url: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
}

export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** The page's main heading, which says what happened. */
export function heading(html: string): string {
  return /<h1>([\s\S]*?)<\/h1>/.exec(html)?.[1] ?? '';
}

/** An address nobody else in the run uses, so tests sharing the emulator's store stay apart. */
let counter = 0;
export function uniqueAddress(label: string): string {
  counter += 1;
  return `${label}-${process.pid}-${counter}@example.com`;
}

/**
 * Points the CLI's commands at a running stack the way an editor's shell would (its ports and
 * data folder) and answers what they print; call `restore` after the tests.
 */
export function cliAgainst(
  stack: LocalStack,
  dataDir: string,
): { restore(): void; streams(): { out: PassThrough; err: NodeJS.WriteStream; printed(): string } } {
  const saved = { ...process.env };
  process.env.PORT = String(stack.ports.http);
  process.env.SES_PORT = String(stack.ports.ses);
  process.env.DYNAMODB_PORT = String(stack.ports.dynamodb);
  process.env.PUSHLETTER_DATA_DIR = dataDir;
  return {
    restore: () => {
      process.env = saved;
    },
    streams: () => {
      const out = new PassThrough();
      const chunks: Buffer[] = [];
      out.on('data', (chunk: Buffer) => chunks.push(chunk));
      const err = new PassThrough().resume() as unknown as NodeJS.WriteStream;
      return { out, err, printed: () => Buffer.concat(chunks).toString('utf8') };
    },
  };
}

/** Ports nobody listens on right now (a test must not use the fixed 3000/8000/8005). */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  for (let index = 0; index < count; index++) {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
  }
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}
