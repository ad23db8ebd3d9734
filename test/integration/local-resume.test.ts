import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sesServer from 'aws-ses-v2-local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSettings } from '../../functions/commons/config';
import { issueStatus } from '../../functions/delivery/delivery-status';
import type { Delivery } from '../../functions/delivery/issues';
import { readLocalPost } from '../../functions/local/publish-route';
import { type LocalStack, startLocalStack } from '../../functions/local/stack';
import { ingestPost } from '../../functions/publishing/ingest-post';
import { clearEmails, copiesByAddress, recipientOf, sesError, startFaultProxy, storedEmails } from './delivery-harness';
import type { LocalStackChildTask } from './local-stack-child';
import { startLocalStackProcess } from './local-stack-process';

const ACTIVE = 600;
const PENDING = 20;
const POST_ID = '2026-11-20-resumed';

let folder: string;
let mail: Server;
let sesUrl: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'pushletter-resume-'));
  // The inbox lives in the test, so it keeps what the killed dev server sent.
  mail = (await sesServer({ host: '127.0.0.1', port: 0 })) as Server;
  sesUrl = `http://127.0.0.1:${(mail.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => mail?.close(resolve));
  await rm(folder, { recursive: true, force: true });
});

async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Names the step that never finished, rather than leaving only the test's timeout. */
async function within<T>(work: Promise<T>, what: string, timeoutMs = 60_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>(
    (_, reject) =>
      (timer = setTimeout(() => reject(new Error(`${what} did not finish in ${timeoutMs} ms`)), timeoutMs)),
  );
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

function startStack(dataDir: string, sesEndpoint = sesUrl): Promise<LocalStack> {
  return startLocalStack({
    dataDir,
    ports: { http: 0, ses: 0, dynamodb: 0 },
    settings: { ...readSettings({}), maxSendRate: 200 },
    sesEndpoint,
  });
}

async function writePost(site: string, postId: string, title: string): Promise<string> {
  await mkdir(join(site, '_posts'), { recursive: true });
  await writeFile(join(site, '_config.yml'), 'title: Resumed\nurl: https://resumed.example.net\n');
  const path = join(site, '_posts', `${postId}.md`);
  await writeFile(path, `---\ntitle: ${title}\n---\n\nEvery reader gets this once, even when the server dies.\n`);
  return path;
}

describe('a dev server killed in the middle of a send', () => {
  it('mails, on its next start, every recipient whose queued job died with it; nobody twice, the copies in doubt reported unknown', async () => {
    const dataDir = join(folder, 'data');
    const post = await writePost(join(folder, 'site'), POST_ID, 'Resumed send');
    const active = Array.from({ length: ACTIVE }, (_, index) => `reader${index}@example.com`);
    const pending = Array.from({ length: PENDING }, (_, index) => `waiting${index}@example.com`);

    // A slow account (100 emails/s), so the kill lands with most jobs still in the queue.
    const task: LocalStackChildTask = {
      dataDir,
      sesEndpoint: sesUrl,
      maxSendRate: 100,
      subscribers: [
        ...active.map((email) => ({ email, state: 'active' as const })),
        ...pending.map((email) => ({ email, state: 'pending' as const })),
      ],
      post,
    };
    const { child, exited, ready } = startLocalStackProcess(task);
    expect(await within(ready, 'the post to be published')).toMatchObject({ status: 'dispatching', postId: POST_ID });

    await waitFor(async () => (await storedEmails(sesUrl)).length >= 60, '60 copies in the inbox');
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const beforeRestart = (await storedEmails(sesUrl)).length;
    expect(beforeRestart).toBeLessThan(ACTIVE / 2);

    let stack = await startStack(dataDir);
    try {
      await within(stack.sending.idle(), 'the resumed send');
      const emails = await storedEmails(sesUrl);
      const copies = copiesByAddress(emails);
      // The restart sent what the dead server never got to.
      expect(emails.length).toBeGreaterThan(beforeRestart);
      for (const email of pending) expect(copies.get(email) ?? 0, email).toBe(0);
      let inDoubt = 0;
      const deliveries = new Map<string, Delivery>();
      for await (const page of stack.sending.issues.deliveries(POST_ID))
        for (const delivery of page) deliveries.set(delivery.subscriberId, delivery);
      for (const email of active) {
        const delivery = deliveries.get(stack.composition.subscribers.idFor(email));
        expect(delivery, email).toBeDefined();
        expect(copies.get(email) ?? 0, email).toBeLessThanOrEqual(1);
        if (delivery!.state === 'sending') {
          // Claimed by the killed server: SES may have taken it, so it is never sent again.
          inDoubt++;
        } else {
          expect(delivery!.state, email).toBe('sent');
          expect(copies.get(email), email).toBe(1);
        }
      }
      const status = await issueStatus(stack.sending.issues, POST_ID, new Date(), 0);
      expect(status!.counts).toMatchObject({
        sent: ACTIVE - inDoubt,
        unknown: inDoubt,
        queued: 0,
        failed: 0,
        skipped: 0,
      });
      expect(status!.issue).toMatchObject({ state: 'dispatched', enqueued: ACTIVE });
      expect(status!.done).toBe(true);
    } finally {
      await within(stack.stop(), 'stopping the stack');
    }

    // Finished now: a further start has nothing to resume and sends nothing.
    const finished = (await storedEmails(sesUrl)).length;
    stack = await startStack(dataDir);
    try {
      expect(stack.sending.dispatchQueue.pending).toBe(0);
      await within(stack.sending.idle(), 'the start after the send finished');
      expect((await storedEmails(sesUrl)).length).toBe(finished);
    } finally {
      await within(stack.stop(), 'stopping the stack');
    }
  }, 120_000);

  it('retries on the next start a recipient whose job went to the dead-letter list', async () => {
    await clearEmails(sesUrl);
    const dataDir = join(folder, 'data-dead-letter');
    const postId = '2026-11-21-dead-lettered';
    const post = await writePost(join(folder, 'site-dead-letter'), postId, 'Dead-lettered once');
    const readers = Array.from({ length: 30 }, (_, index) => `letter${index}@example.com`);
    const unlucky = readers[7]!;
    // SES throttles one address every time, so its job is given up after the queue's last receive.
    const throttling = await startFaultProxy(sesUrl, (form) =>
      recipientOf(form) === unlucky ? sesError(400, 'Throttling', 'Maximum sending rate exceeded.') : undefined,
    );
    let stack = await startStack(dataDir, throttling.url);
    try {
      const consent = { at: new Date().toISOString(), source: 'import' };
      for (const email of readers)
        await stack.composition.subscribers.createIfAbsent({ email, state: 'active', consent });
      expect(await ingestPost(await readLocalPost(post), stack.ingest.ports)).toMatchObject({ status: 'dispatching' });
      await within(stack.sending.idle(), 'the send with a dead-lettered job');
      expect(stack.sending.sendQueue.deadLetters).toHaveLength(1);
      expect(copiesByAddress(await storedEmails(sesUrl))).toEqual(
        new Map(readers.filter((email) => email !== unlucky).map((email) => [email, 1])),
      );
    } finally {
      await within(stack.stop(), 'stopping the stack');
      await throttling.close();
    }

    // SES takes it again: the next start re-dispatches the post and only the unlucky reader is mailed.
    stack = await startStack(dataDir);
    try {
      await within(stack.sending.idle(), 'the retried send');
      expect(copiesByAddress(await storedEmails(sesUrl))).toEqual(new Map(readers.map((email) => [email, 1])));
      const status = await issueStatus(stack.sending.issues, postId, new Date(), 0);
      expect(status!.counts).toMatchObject({ sent: readers.length, queued: 0, unknown: 0 });
    } finally {
      await within(stack.stop(), 'stopping the stack');
    }
  }, 120_000);
});
