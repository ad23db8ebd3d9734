import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { Agent, createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { dynamoClient } from '../functions/adapters/aws-clients';
import { readResources, readSettings } from '../functions/commons/config';
import { startLocalStack } from '../functions/local/stack';
import { ingestPost } from '../functions/publishing/ingest-post';
import { postScope } from '../functions/stats/counted';
import { clickUrl, LinkSigner } from '../functions/stats/tracked-links';

/**
 * API benchmark: the local server (HTTP app + dynalite, as `pushletter dev` runs them) in a
 * child process, loaded from this process at a fixed concurrency. SES is a minimal sink here:
 * the emulator keeps every message in memory and would measure itself.
 *
 * Checks, not just speed: no 5xx; every accepted address stored exactly once (some addresses
 * are posted twice, concurrently); one confirmation email per address; every one-click
 * unsubscribe took effect. Those scenarios come from one client, so their server runs with
 * PUSHLETTER_SIGNUP_LIMITS=off; the flood scenario gets a server of its own with the limits on.
 */
export interface LoadResult {
  scenario: string;
  requests: number;
  concurrency: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  statuses: Record<string, number>;
  serverErrors: number;
  /** What was verified after the load, and whether it held. */
  check: string;
  passed: boolean;
  /** Flood scenario: this p99 over the same clients' p99 without the flood (goal at most 1.5). */
  p99Ratio?: number;
  /** Flood scenario: confirmation emails the flooder got (goal at most the per-client limit). */
  confirmationsToFlooder?: number;
}

export interface ApiBenchmarkOptions {
  requests?: number;
  concurrency?: number;
}

const SELF = fileURLToPath(import.meta.url);

/** Answers SES v1 SendRawEmail like SES does, and counts recipients. */
async function startSesSink(): Promise<{ url: string; recipients: Map<string, number>; close(): Promise<void> }> {
  const recipients = new Map<string, number>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const to = new URLSearchParams(Buffer.concat(chunks).toString()).get('Destinations.member.1') ?? '';
      recipients.set(to, (recipients.get(to) ?? 0) + 1);
      response.writeHead(200, { 'content-type': 'text/xml' });
      response.end(
        `<SendRawEmailResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><SendRawEmailResult><MessageId>${randomUUID()}</MessageId></SendRawEmailResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></SendRawEmailResponse>`,
      );
    });
  });
  // Like SES, keep idle connections open longer than the client does.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    recipients,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Runs `count` requests with `concurrency` in flight; returns latencies and statuses. */
async function load(
  count: number,
  concurrency: number,
  request: (index: number) => Promise<Pick<Response, 'status' | 'arrayBuffer'>>,
) {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next++;
        const begin = performance.now();
        let status: string;
        try {
          const response = await request(index);
          await response.arrayBuffer();
          status = String(response.status);
        } catch {
          status = 'network-error';
        }
        latencies.push(performance.now() - begin);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const percentile = (p: number) => Math.round(latencies[Math.max(0, Math.ceil(p * latencies.length) - 1)]! * 10) / 10;
  const serverErrors = Object.entries(statuses)
    .filter(([status]) => !/^[1-4]\d\d$/.test(status))
    .reduce((sum, [, n]) => sum + n, 0);
  return {
    seconds: Math.round(seconds * 100) / 100,
    requestsPerSecond: Math.round(count / seconds),
    p50Ms: percentile(0.5),
    p99Ms: percentile(0.99),
    statuses,
    serverErrors,
  };
}

interface ChildReady {
  type: 'ready';
  app: string;
  dynamodb: string;
}

/**
 * A form post from the client address `client`: the server sees the socket's address, and any
 * 127.0.0.0/8 address is this machine, so one process can be many clients.
 */
const agents = new Map<string, Agent>();
function postFrom(client: string, url: string, body: string): Promise<Pick<Response, 'status' | 'arrayBuffer'>> {
  let agent = agents.get(client);
  if (agent === undefined)
    agents.set(
      client,
      (agent = new Agent({ keepAlive: true, localAddress: client } as ConstructorParameters<typeof Agent>[0])),
    );
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
      },
      (incoming) => {
        incoming.resume();
        incoming.on('end', () =>
          resolve({ status: incoming.statusCode ?? 0, arrayBuffer: async () => new ArrayBuffer(0) }),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

function ask<T>(child: ChildProcess, message: object, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: { type: string }) => {
      if (reply.type !== type) return;
      child.off('message', onMessage);
      resolve(reply as T);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`the benchmark server exited with code ${code}`)));
    child.send(message);
  });
}

/** The API server in a child process with `env`; its structured log goes to a file, read it when a check fails. */
async function startServer(sesUrl: string, env: Record<string, string>, label: string) {
  const logFile = join(tmpdir(), `pushletter-bench-api-${label}-${process.pid}.log`);
  const log = await open(logFile, 'w');
  const child = fork(SELF, ['--serve', sesUrl], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', log.fd, 'inherit', 'ipc'],
    env: { ...process.env, ...env },
  });
  return {
    child,
    ready: await ask<ChildReady>(child, { type: 'hello' }, 'ready'),
    async stop() {
      child.send({ type: 'stop' });
      await new Promise((resolve) => child.once('exit', resolve));
      await log.close();
      console.error(`api benchmark: server log in ${logFile}`);
    },
  };
}

export async function runApiBenchmark(options: ApiBenchmarkOptions = {}): Promise<LoadResult[]> {
  const sink = await startSesSink();
  try {
    return [...(await runThroughput(sink, options)), ...(await runFlood(sink, options))];
  } finally {
    await sink.close();
    for (const agent of agents.values()) agent.destroy();
  }
}

async function runThroughput(
  sink: Awaited<ReturnType<typeof startSesSink>>,
  options: ApiBenchmarkOptions,
): Promise<LoadResult[]> {
  const requests = options.requests ?? 2_000;
  const concurrency = options.concurrency ?? 50;
  // The server gets its own process (and core), as it would on its own machine.
  // The hourly cap is not one of the limits `off` turns off: raise it, or most confirmations wait.
  const server = await startServer(
    sink.url,
    { PUSHLETTER_SIGNUP_LIMITS: 'off', PUSHLETTER_CONFIRMATIONS_PER_HOUR: '100000' },
    'throughput',
  );
  const { child, ready } = server;
  try {
    // The HTTP layer alone (no storage, no mail): what the routes below cost on top of it.
    const page = await load(requests, concurrency, () => fetch(`${ready.app}/`));
    // One address in ten is posted a second time, half the run later, while the first may be in flight.
    const unique = Math.round(requests * 0.9);
    const addressOf = (index: number) => `bench-${index < unique ? index : (index - unique) * 9}@example.com`;
    const subscribe = await load(requests, concurrency, (index) =>
      fetch(`${ready.app}/subscribe`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `email=${encodeURIComponent(addressOf(index))}`,
      }),
    );

    const stored = new Map<string, number>();
    const dynamo = dynamoClient({ dynamodb: ready.dynamodb });
    let startKey: Record<string, never> | undefined;
    do {
      const page = await dynamo.send(
        new ScanCommand({
          TableName: readResources().subscribersTable,
          ExclusiveStartKey: startKey,
          ProjectionExpression: 'email',
        }),
      );
      for (const item of page.Items ?? []) stored.set(item.email!.S!, (stored.get(item.email!.S!) ?? 0) + 1);
      startKey = page.LastEvaluatedKey as typeof startKey;
    } while (startKey);
    dynamo.destroy();
    const accepted = new Set(Array.from({ length: requests }, (_, index) => addressOf(index)));
    const storedOnce = [...accepted].every((address) => stored.get(address) === 1) && stored.size === accepted.size;
    const mailedOnce = [...accepted].every((address) => sink.recipients.get(address) === 1);

    const { urls } = await ask<{ urls: string[] }>(child, { type: 'activate', emails: [...accepted] }, 'activated');
    const unsubscribe = await load(urls.length, concurrency, (index) =>
      fetch(urls[index]!, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      }),
    );
    const { states } = await ask<{ states: Record<string, number> }>(child, { type: 'states' }, 'states');
    const allLeft = states.unsubscribed === urls.length && Object.keys(states).length === 1;

    return [
      {
        scenario: 'GET / (signup page)',
        requests,
        concurrency,
        ...page,
        check: 'every answer 200',
        passed: page.statuses['200'] === requests,
      },
      {
        scenario: 'POST /subscribe',
        requests,
        concurrency,
        ...subscribe,
        check: `${accepted.size} addresses stored once each: ${storedOnce ? 'yes' : 'NO'}; one confirmation each: ${mailedOnce ? 'yes' : 'NO'}`,
        passed: subscribe.serverErrors === 0 && subscribe.statuses['200'] === requests && storedOnce && mailedOnce,
      },
      {
        scenario: 'POST /unsubscribe (one-click)',
        requests: urls.length,
        concurrency,
        ...unsubscribe,
        check: `all ${urls.length} unsubscribed: ${allLeft ? 'yes' : `NO ${JSON.stringify(states)}`}`,
        passed: unsubscribe.serverErrors === 0 && unsubscribe.statuses['200'] === urls.length && allLeft,
      },
    ];
  } finally {
    await server.stop();
  }
}

/**
 * One client sends `requests` signups at `concurrency` while other clients sign up as people
 * do (a few each, a few at a time). The same normal traffic runs first alone, as the baseline.
 * The hourly cap is raised out of the way: it is what stops many clients, not one.
 */
async function runFlood(
  sink: Awaited<ReturnType<typeof startSesSink>>,
  options: ApiBenchmarkOptions,
): Promise<LoadResult[]> {
  const requests = options.requests ?? 2_000;
  const concurrency = options.concurrency ?? 50;
  const server = await startServer(
    sink.url,
    { PUSHLETTER_SIGNUP_LIMITS: 'on', PUSHLETTER_CONFIRMATIONS_PER_HOUR: '100000' },
    'flood',
  );
  const subscribeUrl = `${server.ready.app}/subscribe`;
  const perClient = 3;
  const normalSignups = 300;
  const normalConcurrency = 10;
  // 100 normal clients per run, 3 signups each: under the per-client limit of 5.
  const normal = (run: string, block: number) => (index: number) =>
    postFrom(
      `127.0.${block}.${1 + Math.floor(index / perClient)}`,
      subscribeUrl,
      `email=${encodeURIComponent(`${run}-${index}@example.com`)}`,
    );
  try {
    const alone = await load(normalSignups, normalConcurrency, normal('alone', 2));
    const [flood, during] = await Promise.all([
      load(requests, concurrency, (index) =>
        postFrom('127.0.9.9', subscribeUrl, `email=${encodeURIComponent(`flood-${index}@example.com`)}`),
      ),
      load(normalSignups, normalConcurrency, normal('during', 3)),
    ]);
    const toFlooder = [...sink.recipients]
      .filter(([address]) => address.startsWith('flood-'))
      .reduce((sum, [, count]) => sum + count, 0);
    const mailedOnce = (run: string) =>
      Array.from(
        { length: normalSignups },
        (_, index) => sink.recipients.get(`${run}-${index}@example.com`) === 1,
      ).every(Boolean);
    const ratio = Math.round((during.p99Ms / Math.max(alone.p99Ms, 0.1)) * 100) / 100;
    const LIMIT = 5;
    return [
      {
        scenario: 'flood: normal clients alone (baseline)',
        requests: normalSignups,
        concurrency: normalConcurrency,
        ...alone,
        check: `every answer 200, one confirmation each: ${mailedOnce('alone') ? 'yes' : 'NO'}`,
        passed: alone.statuses['200'] === normalSignups && mailedOnce('alone'),
      },
      {
        scenario: `flood: one client, ${requests} signups`,
        requests,
        concurrency,
        ...flood,
        confirmationsToFlooder: toFlooder,
        check: `confirmations to the flooder ${toFlooder} (goal at most ${LIMIT}); refused with 429: ${flood.statuses['429'] ?? 0}`,
        passed: toFlooder <= LIMIT && flood.serverErrors === 0,
      },
      {
        scenario: 'flood: normal clients during the flood',
        requests: normalSignups,
        concurrency: normalConcurrency,
        ...during,
        p99Ratio: ratio,
        check: `p99 ${ratio}x the baseline (goal at most 1.5x); every answer 200, one confirmation each: ${mailedOnce('during') ? 'yes' : 'NO'}`,
        passed: ratio <= 1.5 && during.statuses['200'] === normalSignups && mailedOnce('during'),
      },
    ];
  } finally {
    await server.stop();
  }
}

/**
 * The click redirect (tracking `aggregate`) at concurrency 50, against `GET /` in the same run:
 * a reader's click must not wait much longer than a page. Each request checks its signature,
 * reads the post's link list (cached after the first) and counts; half of them come from a
 * scanner's user agent. Checks that every answer is a 302 to the right target and that every
 * request was counted once.
 */
export async function runRedirectBenchmark(options: ApiBenchmarkOptions = {}): Promise<LoadResult[]> {
  const requests = options.requests ?? 2_000;
  const concurrency = options.concurrency ?? 50;
  const sink = await startSesSink();
  const server = await startServer(sink.url, { PUSHLETTER_TRACKING: 'aggregate' }, 'redirect');
  try {
    const { child, ready } = server;
    const { urls, targets } = await ask<{ urls: string[]; targets: string[] }>(child, { type: 'track' }, 'tracked');
    const agentOf = (index: number) =>
      index % 2 === 0 ? 'Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0' : 'curl/8.5.0';
    let wrongTargets = 0;
    const follow = async (index: number) => {
      const link = index % urls.length;
      const response = await fetch(urls[link]!, { redirect: 'manual', headers: { 'user-agent': agentOf(index) } });
      if (response.headers.get('location') !== targets[link]) wrongTargets++;
      return response;
    };
    // Warm both paths (the link list is read once, then cached), then measure them back to back.
    await load(100, concurrency, () => fetch(`${ready.app}/`));
    await load(100, concurrency, follow);
    const { clicks: before } = await ask<{ clicks: number }>(child, { type: 'clicks' }, 'clicks');
    const page = await load(requests, concurrency, () => fetch(`${ready.app}/`));
    const redirect = await load(requests, concurrency, follow);
    const { clicks: after } = await ask<{ clicks: number }>(child, { type: 'clicks' }, 'clicks');
    const ratio = Math.round((redirect.p99Ms / Math.max(page.p99Ms, 0.1)) * 100) / 100;
    const counted = after - before === requests;
    return [
      {
        scenario: 'GET / (baseline, same run)',
        requests,
        concurrency,
        ...page,
        check: 'every answer 200',
        passed: page.statuses['200'] === requests,
      },
      {
        scenario: 'GET /r/{post}/{link} (click redirect)',
        requests,
        concurrency,
        ...redirect,
        p99Ratio: ratio,
        check: `p99 ${ratio}x GET / (goal at most 1.5x); every answer a 302 to its link: ${redirect.statuses['302'] === requests && wrongTargets === 0 ? 'yes' : 'NO'}; counted once each: ${counted ? 'yes' : `NO (${after - before})`}`,
        passed: ratio <= 1.5 && redirect.statuses['302'] === requests && wrongTargets === 0 && counted,
      },
    ];
  } finally {
    await server.stop();
    await sink.close();
  }
}

export function formatApiTable(results: LoadResult[]): string {
  const header = ['scenario', 'requests', 'concurrency', 'req/s', 'p50 ms', 'p99 ms', '5xx', 'check'];
  const rows = results.map((result) => [
    result.scenario,
    String(result.requests),
    String(result.concurrency),
    String(result.requestsPerSecond),
    String(result.p50Ms),
    String(result.p99Ms),
    String(result.serverErrors),
    `${result.passed ? 'ok' : 'FAILED'} (${result.check})`,
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  return [header, ...rows].map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ')).join('\n');
}

/** The child: the local stack with the sink as SES, plus the setup steps the parent asks for. */
async function serve(sesEndpoint: string): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'pushletter-bench-'));
  const stack = await startLocalStack({
    dataDir,
    ports: { http: 0, ses: 0, dynamodb: 0 },
    settings: readSettings(),
    sesEndpoint,
  });
  const { subscribers, subscriptions } = stack.composition;
  process.on('message', async (message: { type: string; emails?: string[] }) => {
    if (message.type === 'hello') {
      process.send!({
        type: 'ready',
        app: stack.urls.app.replace('localhost', '127.0.0.1'),
        dynamodb: stack.urls.dynamodb.replace('localhost', '127.0.0.1'),
      });
    } else if (message.type === 'activate') {
      const urls: string[] = [];
      for (const email of message.emails ?? []) {
        const id = subscribers.idFor(email);
        await subscribers.activate(id);
        urls.push(subscriptions.unsubscribeUrl(id).replace('localhost', '127.0.0.1'));
      }
      process.send!({ type: 'activated', urls });
    } else if (message.type === 'states') {
      const states: Record<string, number> = {};
      for await (const page of subscribers.scanAll())
        for (const subscriber of page) states[subscriber.state] = (states[subscriber.state] ?? 0) + 1;
      process.send!({ type: 'states', states });
    } else if (message.type === 'track') {
      // A post with three links, sent to nobody: only its record and link list matter here.
      const { postId } = await ingestPost(
        {
          path: '_posts/2026-11-05-bench-links.md',
          source:
            '---\ntitle: Links\n---\n\n[one](https://a.example.org/1), [二](https://b.example.org/二?q=1#x), <https://c.example.org/>\n',
          kind: 'post',
          origin: 'publish',
        },
        stack.ingest.ports,
      );
      await stack.sending.idle();
      const links = (await stack.sending.issues.getLinks(postId)) ?? [];
      const signer = new LinkSigner(stack.composition.linkKey);
      const app = stack.urls.app.replace('localhost', '127.0.0.1');
      process.send!({
        type: 'tracked',
        urls: links.slice(1).map((_, index) => clickUrl(app, postId, index + 1, signer)),
        targets: links.slice(1),
      });
    } else if (message.type === 'clicks') {
      const counters = await stack.composition.clicks.read(postScope('2026-11-05-bench-links'));
      const clicks = Object.entries(counters)
        .filter(([name]) => /^click#\d+$/.test(name))
        .reduce((sum, [, count]) => sum + count, 0);
      process.send!({ type: 'clicks', clicks });
    } else if (message.type === 'stop') {
      await stack.stop();
      await rm(dataDir, { recursive: true, force: true });
      process.exit(0);
    }
  });
}

// Run through `npm run bench -- api` (bench/run.ts); this file runs itself only as the server child.
if (process.argv[1] === SELF && process.argv[2] === '--serve') {
  await serve(process.argv[3]!);
}
