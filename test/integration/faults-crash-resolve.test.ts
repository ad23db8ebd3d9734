import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoIssueStore } from '../../functions/adapters/dynamodb/issue-store';
import { formatStatus } from '../../functions/cli/status-command';
import { readResources, readSettings } from '../../functions/commons/config';
import { parseSecrets } from '../../functions/commons/secrets';
import { issueStatus } from '../../functions/delivery/delivery-status';
import { startDynalite } from '../../functions/local/dynalite-server';
import { createLocalServices } from '../../functions/local/local-services';
import { startLocalStack } from '../../functions/local/stack';
import { copiesByAddress, storedEmails } from './delivery-harness';
import type { LocalStackChildTask } from './local-stack-child';
import { startLocalStackProcess } from './local-stack-process';

/**
 * The dev server (dispatcher, four senders, the SES emulator and its inbox, all one process)
 * killed with SIGKILL at random points of a 3,000-subscriber send, several times, and started
 * again each time: every active subscriber ends with exactly one copy in the inbox. The copies
 * a kill leaves in doubt (claimed, maybe accepted by SES, not recorded) are decided on the next
 * start from the Send events the emulator recorded in the inbox file.
 */
const ACTIVE = 3_000;
const PENDING = 20;
const KILLS = 3;
const POST_ID = '2026-12-02-crash-resolved';
const FREE = { http: 0, ses: 0, dynamodb: 0 };

let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'pushletter-crash-resolve-'));
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Messages in the inbox file so far, read incrementally (the file grows to ~10 MB). */
function inboxCounter(file: string): () => number {
  let offset = 0;
  let count = 0;
  let partial = '';
  return () => {
    if (!existsSync(file)) return 0;
    const descriptor = openSync(file, 'r');
    try {
      const size = fstatSync(descriptor).size;
      if (size > offset) {
        const chunk = Buffer.alloc(size - offset);
        readSync(descriptor, chunk, 0, chunk.length, offset);
        offset = size;
        const lines = (partial + chunk.toString('utf8')).split('\n');
        partial = lines.pop()!;
        count += lines.filter((line) => line.startsWith('{"email"')).length;
      }
    } finally {
      closeSync(descriptor);
    }
    return count;
  };
}

/** Recipient address -> copies in the inbox file (what the next start shows). */
function copiesInFile(file: string): Map<string, number> {
  const emails = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{"email"'))
    .map((line) => (JSON.parse(line) as { email: { destination: { to: string[] } } }).email);
  return copiesByAddress(emails as Parameters<typeof copiesByAddress>[0]);
}

/** Between a kill and the next start: recipients claimed and not recorded, read from the data folder. */
async function inDoubtAfterKill(
  dataDir: string,
  inbox: Map<string, number>,
  emails: string[],
): Promise<{ claimed: number; inInbox: number }> {
  const dynamo = await startDynalite({ path: join(dataDir, 'dynamodb'), port: 0, setting: 'DYNAMODB_PORT' });
  const composition = createLocalServices({
    endpoints: { dynamodb: dynamo.endpoint, ses: 'http://127.0.0.1:9' },
    settings: readSettings({}),
    resources: readResources({}),
    secrets: parseSecrets(readFileSync(join(dataDir, 'secrets.json'), 'utf8'), 'secrets.json'),
  });
  try {
    const issues = new DynamoIssueStore(composition.dynamo, composition.resources);
    const emailOf = new Map(emails.map((email) => [composition.subscribers.idFor(email), email]));
    let claimed = 0;
    let inInbox = 0;
    for await (const page of issues.deliveries(POST_ID)) {
      for (const delivery of page) {
        if (delivery.state !== 'sending') continue;
        claimed++;
        if ((inbox.get(emailOf.get(delivery.subscriberId)!) ?? 0) > 0) inInbox++;
      }
    }
    return { claimed, inInbox };
  } finally {
    composition.dynamo.destroy();
    composition.ses.destroy();
    await dynamo.stop();
  }
}

describe('a dev server killed again and again during a send', () => {
  it('leaves every active subscriber exactly one copy in the inbox, and nothing unknown', async () => {
    const started = Date.now();
    const dataDir = join(folder, 'data');
    const site = join(folder, 'site');
    await mkdir(join(site, '_posts'), { recursive: true });
    await writeFile(join(site, '_config.yml'), 'title: Crashes\nurl: https://crashes.example.net\n');
    const post = join(site, '_posts', `${POST_ID}.md`);
    await writeFile(
      post,
      '---\ntitle: Once each\n---\n\nEvery reader gets this once, however often the server dies.\n',
    );
    const active = Array.from({ length: ACTIVE }, (_, index) => `reader${index}@example.com`);
    const pending = Array.from({ length: PENDING }, (_, index) => `waiting${index}@example.com`);
    const subscribersFile = join(folder, 'subscribers.json');
    await writeFile(
      subscribersFile,
      JSON.stringify([
        ...active.map((email) => ({ email, state: 'active' })),
        ...pending.map((email) => ({ email, state: 'pending' })),
      ]),
    );
    const inboxFile = join(dataDir, 'inbox.jsonl');
    const inboxCount = inboxCounter(inboxFile);

    const kills: { atMessages: number; claimed: number; inInbox: number; seconds: number }[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      const task: LocalStackChildTask =
        kill === 0 ? { dataDir, maxSendRate: 1_000, subscribersFile, post } : { dataDir, maxSendRate: 1_000 };
      const run = startLocalStackProcess(task);
      expect((await run.ready).status).toBe(kill === 0 ? 'dispatching' : 'started');
      // A random point between 150 and 700 copies further on, well short of the end.
      const target = inboxCount() + 150 + Math.floor(Math.random() * 550);
      await waitFor(() => inboxCount() >= target || run.child.exitCode !== null, `${target} copies in the inbox`);
      run.child.kill('SIGKILL');
      expect(await run.exited).toBe('SIGKILL');
      const inbox = copiesInFile(inboxFile);
      for (const [address, copies] of inbox) expect(copies, address).toBe(1);
      kills.push({
        atMessages: inboxCount(),
        ...(await inDoubtAfterKill(dataDir, inbox, active)),
        seconds: Math.round((Date.now() - started) / 1000),
      });
    }
    expect(kills.at(-1)!.atMessages).toBeLessThan(ACTIVE);
    // Each kill caught recipients between their claim and their record.
    expect(kills.every((kill) => kill.claimed > 0)).toBe(true);

    const stack = await startLocalStack({
      dataDir,
      ports: FREE,
      settings: { ...readSettings({}), maxSendRate: 1_000 },
    });
    try {
      await stack.sending.idle();
      const copies = copiesByAddress(await storedEmails(`http://127.0.0.1:${stack.ports.ses}`));
      for (const email of active) expect(copies.get(email) ?? 0, email).toBe(1);
      for (const email of pending) expect(copies.get(email) ?? 0, email).toBe(0);
      expect([...copies.values()].reduce((sum, count) => sum + count, 0)).toBe(ACTIVE);
      const status = await issueStatus(stack.sending.issues, POST_ID, new Date());
      expect(status!.counts).toMatchObject({ sent: ACTIVE, sending: 0, unknown: 0, queued: 0, failed: 0 });
      expect(status!.done).toBe(true);
      expect(formatStatus(status!)).toMatch(/unknown +0\n/);
    } finally {
      await stack.stop();
    }
    console.log(
      `crash test: ${ACTIVE} active subscribers, ${KILLS} kills ${JSON.stringify(kills)}, ${ACTIVE} copies, ${Math.round((Date.now() - started) / 1000)} s`,
    );
  }, 600_000);
});
