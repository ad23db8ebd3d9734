import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { readSettings } from '../../functions/commons/config';
import { startLocalStack, type LocalStack } from '../../functions/local/stack';
import { readLocalPost } from '../../functions/local/publish';
import { DispatcherInvoker } from '../../functions/sending/dispatch-invoker';
import { ingestPost } from '../../functions/sending/ingest';
import type { DispatchJob } from '../../functions/sending/jobs';
import { EventBridgeScheduler, TimerScheduler, atExpression, scheduleName } from '../../functions/sending/schedule';
import { importSubscribers } from '../../functions/subscribers/import';
import { copiesByAddress, storedEmails } from './sending-harness';

interface Recorded {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** Stands in for an AWS REST endpoint: records requests, answers what `answer` says. */
async function awsEndpoint(answer: (request: Recorded) => { status: number; headers?: Record<string, string>; body?: string }) {
  const requests: Recorded[] = [];
  const server: Server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const recorded = { method: incoming.method!, path: incoming.url!, headers: incoming.headers, body: Buffer.concat(chunks).toString('utf8') };
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
        ? { status: 200, body: JSON.stringify({ ScheduleArn: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/posts/x' }) }
        : { status: 409, headers: { 'x-amzn-errortype': 'ConflictException' }, body: JSON.stringify({ Message: 'Schedule already exists.' }) },
    );
    try {
      const client = new SchedulerClient({ endpoint: endpoint.url, region: 'eu-west-1', credentials, maxAttempts: 1 });
      const scheduler = new EventBridgeScheduler(client, { targetArn: DISPATCHER, roleArn: 'arn:aws:iam::123456789012:role/scheduler', groupName: 'Pushletter-posts' });
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
    const endpoint = await awsEndpoint(() => ({ status: 400, headers: { 'x-amzn-errortype': 'ValidationException' }, body: JSON.stringify({ Message: 'bad role' }) }));
    try {
      const client = new SchedulerClient({ endpoint: endpoint.url, region: 'eu-west-1', credentials, maxAttempts: 1 });
      const scheduler = new EventBridgeScheduler(client, { targetArn: DISPATCHER, roleArn: 'arn:aws:iam::123456789012:role/none' });
      await expect(scheduler.schedule('2099-01-01-x', new Date('2099-01-01T00:00:00Z'))).rejects.toMatchObject({ name: 'ValidationException' });
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
      const invoker = new DispatcherInvoker(new LambdaClient({ endpoint: endpoint.url, region: 'eu-west-1', credentials, maxAttempts: 1 }), DISPATCHER);
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

describe('a future post on the local stack', () => {
  let dataDir: string;
  let site: string;
  let stack: LocalStack | undefined;
  const readers = ['first.reader@example.net', 'second.reader@example.net'];
  const settings = readSettings({});
  const start = () => startLocalStack({ dataDir, ports: { http: 0, ses: 0, dynamodb: 0 }, settings });

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'pushletter-schedule-'));
    site = mkdtempSync(join(tmpdir(), 'pushletter-schedule-site-'));
  });

  afterAll(async () => {
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(site, { recursive: true, force: true });
  });

  it('is scheduled, survives a restart of the stack, and is sent once when its time comes', async () => {
    stack = await start();
    await importSubscribers(
      readers.map((email, index) => ({ line: index + 2, email })),
      { store: stack.composition.subscribers, service: stack.composition.subscriptions, clock: stack.composition.clock, confirmed: true },
    );
    // Dated a few seconds ahead, in the site's timezone (UTC+8).
    const due = new Date(Math.ceil((Date.now() + 6_000) / 1000) * 1000);
    const local = new Date(due.getTime() + 8 * 3600 * 1000).toISOString().replace('T', ' ').slice(0, 19);
    const day = local.slice(0, 10);
    mkdirSync(join(site, '_posts'), { recursive: true });
    writeFileSync(join(site, '_config.yml'), 'title: Timed\nurl: https://timed.example.net\ntimezone: Asia/Shanghai\n');
    writeFileSync(join(site, '_posts', `${day}-on-time.md`), `---\ntitle: On time\ndate: ${local}\n---\n\nSent at its date.\n`);
    const postId = `${day}-on-time`;

    const outcome = await ingestPost(await readLocalPost(join(site, '_posts', `${day}-on-time.md`)), stack.ingest.ports);
    expect(outcome).toMatchObject({ status: 'scheduled', at: due.toISOString() });
    expect(await storedEmails(`http://127.0.0.1:${stack.ports.ses}`)).toEqual([]);

    // The dev server stops before the date; the next start finds the issue and re-arms it.
    await stack.stop();
    stack = await start();
    expect(stack.ingest.scheduler.pending()).toEqual([postId]);
    const inbox = `http://127.0.0.1:${stack.ports.ses}`;
    await vi.waitFor(
      async () => {
        expect((await stack!.sending.issues.getIssue(postId))?.state).toBe('dispatched');
      },
      { timeout: 30_000, interval: 250 },
    );
    await stack.sending.idle();
    expect(copiesByAddress(await storedEmails(inbox))).toEqual(new Map(readers.map((address) => [address, 1])));
  });

  it('resumes a send the dev server was stopped in the middle of, on its next start', async () => {
    const path = join(site, '_posts', '2024-09-01-interrupted.md');
    writeFileSync(path, '---\ntitle: Interrupted\n---\n\nThe server stopped before this went out.\n');
    // The issue is recorded, then the process dies before its dispatch job leaves memory.
    const lost = { send: async () => {} };
    const outcome = await ingestPost(await readLocalPost(path), { ...stack!.ingest.ports, dispatchQueue: lost });
    expect(outcome.status).toBe('dispatching');
    await stack!.stop();

    stack = await start();
    await vi.waitFor(
      async () => {
        expect((await stack!.sending.issues.getIssue('2024-09-01-interrupted'))?.state).toBe('dispatched');
      },
      { timeout: 30_000, interval: 250 },
    );
    await stack.sending.idle();
    const emails = (await storedEmails(`http://127.0.0.1:${stack.ports.ses}`)).filter((email) => email.subject === 'Interrupted');
    expect(copiesByAddress(emails)).toEqual(new Map(readers.map((address) => [address, 1])));
  });
});
