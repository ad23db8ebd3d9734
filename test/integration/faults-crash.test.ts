import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SendJob } from '../../functions/contract/messages';
import { issueStatus } from '../../functions/delivery/delivery-status';
import { dispatchIssue } from '../../functions/delivery/dispatcher';
import type { ChildTask } from './delivery-child';
import {
  clearEmails,
  copiesByAddress,
  createIssue,
  deliveriesOf,
  dispatchedBatch,
  pipeline,
  type Stack,
  seedSubscribers,
  startFaultProxy,
  startStack,
  storedEmails,
  TestQueue,
} from './delivery-harness';

const CHILD = fileURLToPath(new URL('./delivery-child.ts', import.meta.url));

let stack: Stack;
let people: { id: string; email: string; state: string }[];
let folder: string;

beforeAll(async () => {
  stack = await startStack();
  people = await seedSubscribers(stack, 400);
  folder = mkdtempSync(join(tmpdir(), 'pushletter-crash-'));
});

afterAll(async () => {
  await stack?.close();
  rmSync(folder, { recursive: true, force: true });
});

beforeEach(async () => {
  await clearEmails(stack.sesUrl);
});

function startChild(task: Omit<ChildTask, 'dynamoUrl' | 'masterKey' | 'tables' | 'sesUrl'> & { sesUrl?: string }): {
  child: ChildProcess;
  exited: Promise<number | null>;
} {
  const full: ChildTask = {
    ...task,
    sesUrl: task.sesUrl ?? stack.sesUrl,
    dynamoUrl: stack.dynamoUrl,
    masterKey: stack.masterKey.toString('base64'),
    tables: stack.tables,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(full)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited };
}

async function waitFor(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a process dying mid-work', () => {
  it('a sender killed mid-batch and redelivered sends nobody twice and reports the copies in doubt as unknown', async () => {
    const postId = '2026-11-26-sender-killed';
    const { run, batch } = await dispatchedBatch(stack, postId);
    expect(batch.flatMap((record) => (JSON.parse(record.body) as SendJob).subscriberIds)).toHaveLength(400);

    // After 60 answers SES's answers stop reaching the sender, so when the kill lands copies
    // are accepted but unrecorded, however fast or slow the machine runs.
    const silentSes = await startFaultProxy(stack.sesUrl, () => undefined, { answerOnly: 60 });
    try {
      const worker = startChild({ mode: 'send', sesUrl: silentSes.url, records: batch, concurrency: 8 });
      await waitFor(() => silentSes.unanswered >= 1, 'a copy SES took whose answer the sender never gets');
      expect((await storedEmails(stack.sesUrl)).length).toBeGreaterThanOrEqual(61);
      worker.child.kill('SIGKILL');
      expect(await worker.exited).toBe(null);
    } finally {
      await silentSes.close();
    }
    const beforeRestart = (await storedEmails(stack.sesUrl)).length;
    expect(beforeRestart).toBeLessThan(400);

    // SQS makes the batch visible again; a fresh sender takes it.
    const retried = await run.consume(batch);
    expect(retried).toEqual([]);

    const copies = copiesByAddress(await storedEmails(stack.sesUrl));
    const deliveries = await deliveriesOf(stack, postId);
    let inDoubt = 0;
    for (const person of people) {
      const delivery = deliveries.get(person.id);
      expect(delivery, person.email).toBeDefined();
      expect(copies.get(person.email) ?? 0, person.email).toBeLessThanOrEqual(1);
      if (delivery!.state === 'sending') inDoubt++;
      else {
        expect(delivery!.state).toBe('sent');
        expect(copies.get(person.email), person.email).toBe(1);
      }
    }
    // The kill caught copies between SES and the record, and recipients claimed for the next
    // SES calls: they stay claimed and are never re-sent. At most the 16 recipients a sender of
    // 8 SES calls works on at once.
    expect(inDoubt).toBeGreaterThan(0);
    expect(inDoubt).toBeLessThanOrEqual(16);
    const status = await issueStatus(stack.issues, postId, new Date(), 0);
    expect(status!.counts).toMatchObject({ unknown: inDoubt, sent: 400 - inDoubt, queued: 0 });
  });

  it('a dispatcher killed mid-page resumes from its checkpoint: no gap, and the page queued twice sends once', async () => {
    const postId = '2026-11-26-dispatcher-killed';
    await createIssue(stack, postId);
    const queueFile = join(folder, 'send-queue.jsonl');
    const lines = () => (existsSync(queueFile) ? readFileSync(queueFile, 'utf8').split('\n').filter(Boolean) : []);
    // Pages of 100 in messages of at most 5 ids, queued in groups of 10 messages. It stops once
    // a group of the third page is queued, before that page's checkpoint, and is killed there.
    const dispatcher = startChild({
      mode: 'dispatch',
      postId,
      queueFile,
      pageSize: 100,
      recipientsPerMessage: 5,
      freezeAfterRecipients: 201,
    });
    const queuedIds = () => lines().reduce((sum, line) => sum + (JSON.parse(line) as SendJob).subscriberIds.length, 0);
    await waitFor(() => queuedIds() > 200, 'part of the third page');
    dispatcher.child.kill('SIGKILL');
    expect(await dispatcher.exited).toBe(null);

    const queuedBeforeCrash = lines().map((line) => JSON.parse(line) as SendJob);
    const thirdPageQueued = queuedIds() - 200;
    expect(thirdPageQueued).toBeGreaterThan(0);
    expect(thirdPageQueued).toBeLessThanOrEqual(100);
    const checkpoint = await stack.issues.getIssue(postId);
    expect(checkpoint).toMatchObject({ state: 'dispatching', enqueued: 200 });
    expect(checkpoint!.cursor).not.toBe('');

    // The redelivered dispatch event starts a new dispatcher.
    const run = pipeline(stack);
    const resumedQueue = new TestQueue<SendJob>();
    const outcome = await dispatchIssue({ ...run.dispatchPorts, sendQueue: resumedQueue }, postId, {
      pageSize: 100,
      recipientsPerMessage: 5,
    });
    expect(outcome).toEqual({ status: 'dispatched', enqueued: 200 });

    const all = [
      ...queuedBeforeCrash.map((job, index) => ({ messageId: `before-${index}`, body: JSON.stringify(job) })),
      ...drain(resumedQueue),
    ];
    const ids = all.flatMap((record) => (JSON.parse(record.body) as SendJob).subscriberIds);
    expect(new Set(ids).size).toBe(400);
    // What the killed dispatcher queued of the third page is queued again.
    expect(ids.length).toBe(400 + thirdPageQueued);
    for (let start = 0; start < all.length; start += 10)
      expect(await run.consume(all.slice(start, start + 10))).toEqual([]);

    const copies = copiesByAddress(await storedEmails(stack.sesUrl));
    for (const person of people) expect(copies.get(person.email), person.email).toBe(1);
    const status = await issueStatus(stack.issues, postId, new Date(), 0);
    expect(status!.counts).toMatchObject({ sent: 400, queued: 0, unknown: 0 });
    expect(status!.issue.enqueued).toBe(400);
  });
});

function drain(queue: TestQueue<SendJob>) {
  const records = [];
  for (let batch = queue.receive(); batch.length > 0; batch = queue.receive()) records.push(...batch);
  return records;
}
