import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DispatcherInvoker } from '../../functions/adapters/lambda-invoker';
import type { Clock } from '../../functions/commons/clock';
import { readSettings } from '../../functions/commons/config';
import type { DispatchJob } from '../../functions/contract/messages';
import { readLocalPost } from '../../functions/local/publish-route';
import { QUEUE_DRAINED_ATTRIBUTE } from '../../functions/local/send-resumption';
import { type LocalStack, startLocalStack } from '../../functions/local/stack';
import { ingestPost } from '../../functions/publishing/ingest-post';
import { atExpression, EventBridgeScheduler, scheduleName, TimerScheduler } from '../../functions/publishing/schedule';
import { importSubscribers } from '../../functions/subscribers/import';
import { copiesByAddress, storedEmails } from './delivery-harness';

interface Recorded {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** Stands in for an AWS REST endpoint: records requests, answers what `answer` says. */
async function awsEndpoint(
  answer: (request: Recorded) => { status: number; headers?: Record<string, string>; body?: string },
) {
  const requests: Recorded[] = [];
  const server: Server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const recorded = {
        method: incoming.method!,
        path: incoming.url!,
        headers: incoming.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      const { status, headers, body } = answer(recorded);
      outgoing.writeHead(status, { 'content-type': 'application/json', ...headers });
      outgoing.end(body ?? '{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const DISPATCHER = 'arn:aws:lambda:eu-west-1:123456789012:function:Pushletter-Dispatch';

describe('EventBridge Scheduler', () => {
  it('creates one self-deleting one-time schedule per post that invokes the dispatcher with the post id', async () => {
    let calls = 0;
    const endpoint = await awsEndpoint(() =>
      ++calls === 1
        ? {
            status: 200,
            body: JSON.stringify({ ScheduleArn: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/posts/x' }),
          }
        : {
            status: 409,
            headers: { 'x-amzn-errortype': 'ConflictException' },
            body: JSON.stringify({ Message: 'Schedule already exists.' }),
          },
    );
    try {
      const client = new SchedulerClient({ endpoint: endpoint.url, region: 'eu-west-1', credentials, maxAttempts: 1 });
      const scheduler = new EventBridgeScheduler(client, {
        targetArn: DISPATCHER,
        roleArn: 'arn:aws:iam::123456789012:role/scheduler',
        groupName: 'Pushletter-posts',
      });
      const postId = '2099-01-01-新年快乐';
      await scheduler.schedule(postId, new Date('2099-01-01T00:00:00.250Z'));
      // A redelivered ingest schedules the same post again: the first schedule stands, no error.
      await scheduler.schedule(postId, new Date('2099-01-01T00:00:00.250Z'));

      expect(endpoint.requests).toHaveLength(2);
      const [request] = endpoint.requests;
      expect(request!.method).toBe('POST');
      expect(request!.path).toBe(`/schedules/${scheduleName(postId)}`);
      expect(scheduleName(postId)).toMatch(/^[0-9a-zA-Z_.-]{1,64}$/);
      const body = JSON.parse(request!.body);
      expect(body).toMatchObject({
        GroupName: 'Pushletter-posts',
        ScheduleExpression: 'at(2099-01-01T00:00:01)',
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        Target: { Arn: DISPATCHER, RoleArn: 'arn:aws:iam::123456789012:role/scheduler' },
      });
      expect(JSON.parse(body.Target.Input)).toEqual({ postId });
    } finally {
      await endpoint.close();
    }
  });

  it('lets other errors through so the ingest message is retried', async () => {
    const endpoint = await awsEndpoint(() => ({
      status: 400,
      headers: { 'x-amzn-errortype': 'ValidationException' },
      body: JSON.stringify({ Message: 'bad role' }),
    }));
    try {
      const client = new SchedulerClient({ endpoint: endpoint.url, region: 'eu-west-1', credentials, maxAttempts: 1 });
      const scheduler = new EventBridgeScheduler(client, {
        targetArn: DISPATCHER,
        roleArn: 'arn:aws:iam::123456789012:role/none',
      });
      await expect(scheduler.schedule('2099-01-01-x', new Date('2099-01-01T00:00:00Z'))).rejects.toMatchObject({
        name: 'ValidationException',
      });
    } finally {
      await endpoint.close();
    }
  });

  it('never schedules early: sub-second dates round up to the next second', () => {
    expect(atExpression(new Date('2030-05-06T07:08:09.000Z'))).toBe('at(2030-05-06T07:08:09)');
    expect(atExpression(new Date('2030-05-06T07:08:09.001Z'))).toBe('at(2030-05-06T07:08:10)');
  });
});

describe('starting the dispatcher now', () => {
  it('invokes the dispatcher asynchronously with the post id', async () => {
    const endpoint = await awsEndpoint(() => ({ status: 202, body: '' }));
    try {
      const invoker = new DispatcherInvoker(
        new LambdaClient({ endpoint: endpoint.url, region: 'eu-west-1', credentials, maxAttempts: 1 }),
        DISPATCHER,
      );
      await invoker.send([{ postId: '2026-11-20-hello' }]);
      const [request] = endpoint.requests;
      expect(request!.path).toBe(`/2015-03-31/functions/${encodeURIComponent(DISPATCHER)}/invocations`);
      expect(request!.headers['x-amz-invocation-type']).toBe('Event');
      expect(JSON.parse(request!.body)).toEqual({ postId: '2026-11-20-hello' });
    } finally {
      await endpoint.close();
    }
  });
});

describe('the local timer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits longer than setTimeout allows (about 24.8 days) by chaining timers', async () => {
    vi.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z') });
    const fired: DispatchJob[] = [];
    const scheduler = new TimerScheduler(async (job) => void fired.push(job), { now: () => new Date() });
    await scheduler.schedule('2030-01-31-month-later', new Date('2030-01-31T00:00:00Z'));
    await vi.advanceTimersByTimeAsync(25 * 24 * 3600 * 1000);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(5 * 24 * 3600 * 1000);
    expect(fired).toEqual([{ postId: '2030-01-31-month-later' }]);
    expect(scheduler.pending()).toEqual([]);
  });
});

/** A clock that reads `at` when made and then runs at real speed. */
function clockFrom(at: Date): Clock {
  const origin = Date.now();
  return { now: () => new Date(at.getTime() + (Date.now() - origin)) };
}

describe('a future post on the local stack', () => {
  const readers = ['first.reader@example.net', 'second.reader@example.net'];
  const settings = readSettings({});
  const folders: string[] = [];
  let stack: LocalStack | undefined;

  function folder(name: string): string {
    const path = mkdtempSync(join(tmpdir(), `pushletter-schedule-${name}-`));
    folders.push(path);
    return path;
  }

  async function start(dataDir: string, clock?: Clock): Promise<LocalStack> {
    stack = await startLocalStack({ dataDir, ports: { http: 0, ses: 0, dynamodb: 0 }, settings, clock });
    return stack;
  }

  async function stop(): Promise<void> {
    await stack?.stop();
    stack = undefined;
  }

  async function addReaders(running: LocalStack): Promise<void> {
    await importSubscribers(
      readers.map((email, index) => ({ line: index + 2, email })),
      {
        store: running.composition.subscribers,
        service: running.composition.subscriptions,
        clock: running.composition.clock,
        confirmed: true,
      },
    );
  }

  /**
   * The stack marks a post once its send queue is empty, so its next start leaves the post
   * alone; the mark is written after the last job settles, so wait for it before stopping.
   */
  async function waitForDrained(running: LocalStack, postId: string): Promise<void> {
    await vi.waitFor(
      async () => {
        const { Item } = await running.composition.dynamo.send(
          new GetItemCommand({
            TableName: running.composition.resources.issuesTable,
            Key: { postId: { S: postId } },
            ConsistentRead: true,
          }),
        );
        expect(Item?.[QUEUE_DRAINED_ATTRIBUTE]).toBeDefined();
      },
      { timeout: 30_000, interval: 50 },
    );
  }

  afterEach(async () => {
    await stop();
    for (const path of folders.splice(0)) rmSync(path, { recursive: true, force: true });
  });

  it('is scheduled, survives a restart of the stack, and is sent once when its time comes', async () => {
    const dataDir = folder('data');
    const site = folder('site');
    // The stack's clock, not the wall clock, decides what is in the future: an hour before the
    // post's date while it is recorded and re-armed, half a second before it at the last start.
    const due = new Date('2030-03-04T05:06:07.000Z');
    const anHourBefore = new Date(due.getTime() - 3600_000);
    // The same instant in the site's timezone (UTC+8), as the front matter writes it.
    const local = '2030-03-04 13:06:07';
    const postId = '2030-03-04-on-time';
    mkdirSync(join(site, '_posts'), { recursive: true });
    writeFileSync(join(site, '_config.yml'), 'title: Timed\nurl: https://timed.example.net\ntimezone: Asia/Shanghai\n');
    writeFileSync(
      join(site, '_posts', `${postId}.md`),
      `---\ntitle: On time\ndate: ${local}\n---\n\nSent at its date.\n`,
    );

    let running = await start(dataDir, clockFrom(anHourBefore));
    await addReaders(running);
    const outcome = await ingestPost(await readLocalPost(join(site, '_posts', `${postId}.md`)), running.ingest.ports);
    expect(outcome).toMatchObject({ status: 'scheduled', at: due.toISOString() });
    expect(running.ingest.scheduler.pending()).toEqual([postId]);
    expect(await storedEmails(`http://127.0.0.1:${running.ports.ses}`)).toEqual([]);

    // The dev server stops before the date; the next start finds the issue and re-arms it.
    await stop();
    running = await start(dataDir, clockFrom(anHourBefore));
    expect(running.ingest.scheduler.pending()).toEqual([postId]);
    expect((await running.sending.issues.getIssue(postId))?.state).toBe('scheduled');
    expect(await storedEmails(`http://127.0.0.1:${running.ports.ses}`)).toEqual([]);

    // Started again just before the date: its timer fires, and the post goes out once.
    await stop();
    running = await start(dataDir, clockFrom(new Date(due.getTime() - 500)));
    const inbox = `http://127.0.0.1:${running.ports.ses}`;
    await vi.waitFor(
      async () => {
        expect((await running.sending.issues.getIssue(postId))?.state).toBe('dispatched');
      },
      { timeout: 30_000, interval: 250 },
    );
    await running.sending.idle();
    await waitForDrained(running, postId);
    expect(copiesByAddress(await storedEmails(inbox))).toEqual(new Map(readers.map((address) => [address, 1])));
    expect(running.ingest.scheduler.pending()).toEqual([]);
  });

  it('resumes a send the dev server was stopped in the middle of, on its next start', async () => {
    const dataDir = folder('data');
    const site = folder('site');
    mkdirSync(join(site, '_posts'), { recursive: true });
    const path = join(site, '_posts', '2024-09-01-interrupted.md');
    writeFileSync(path, '---\ntitle: Interrupted\n---\n\nThe server stopped before this went out.\n');
    let running = await start(dataDir);
    await addReaders(running);
    // The issue is recorded, then the process dies before its dispatch job leaves memory.
    const lost = { send: async () => {} };
    const outcome = await ingestPost(await readLocalPost(path), { ...running.ingest.ports, dispatchQueue: lost });
    expect(outcome.status).toBe('dispatching');
    // The emulator's inbox is one per process, shared with the other tests: look at this post's mail.
    const interrupted = async (inbox: string) =>
      (await storedEmails(inbox)).filter((email) => email.subject === 'Interrupted');
    expect(await interrupted(`http://127.0.0.1:${running.ports.ses}`)).toEqual([]);
    await stop();

    running = await start(dataDir);
    await vi.waitFor(
      async () => {
        expect((await running.sending.issues.getIssue('2024-09-01-interrupted'))?.state).toBe('dispatched');
      },
      { timeout: 30_000, interval: 250 },
    );
    await running.sending.idle();
    await waitForDrained(running, '2024-09-01-interrupted');
    expect(copiesByAddress(await interrupted(`http://127.0.0.1:${running.ports.ses}`))).toEqual(
      new Map(readers.map((address) => [address, 1])),
    );
  });
});
