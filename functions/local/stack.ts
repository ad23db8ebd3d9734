import { createServer } from 'node:http';
import { join } from 'node:path';
import type { Clock } from '../commons/clock';
import {
  LOCAL_PORT_SETTINGS,
  type LocalPorts,
  type Resources,
  readResources,
  type Settings,
  withSiteIdentity,
} from '../commons/config';
import { logger } from '../commons/logger';
import { type DigestOutcome, runWeeklyDigest } from '../digest/weekly-digest';
import { handleSesEvents } from '../feedback/ses-notifications';
import { createHttpApp } from '../http/app';
import { createNodeServer } from '../http/node-server';
import { ROUTES } from '../http/route-table';
import type { HttpApp } from '../http/types';
import type { LocalBlog } from './blog';
import { localTables } from './create-tables';
import { digestRoute } from './digest-route';
import { startDigestTimer } from './digest-timer';
import { ensureTables, startDynalite } from './dynalite-server';
import { type LocalIngest, startLocalIngest } from './ingest-pipeline';
import { close, listen } from './listen';
import { loadOrCreateLocalSecrets } from './local-secrets';
import {
  createLocalServices,
  type LocalSending,
  type LocalServices,
  localSettings,
  startLocalSending,
} from './local-services';
import { watchLocalWelcome } from './local-welcome';
import { deleteExpiredSubscribers } from './pending-sweep';
import { publishRoute } from './publish-route';
import { type LocalSes, sendAndDeliveryEventsOf, startSesEmulator } from './ses-emulator';
import { forgetSiteIdentity, saveSiteIdentity } from './site-identity';

export interface StartLocalStackOptions {
  /** DynamoDB files (`dynamodb/`), the inbox (`inbox.jsonl`) and `secrets.json` live here. */
  dataDir: string;
  /** 0 picks a free port (tests). */
  ports: LocalPorts;
  settings: Settings;
  resources?: Resources;
  clock?: Clock;
  /**
   * Send mail to this SES-compatible endpoint instead of starting the emulator (benchmarks:
   * the emulator keeps every message in memory). `ports.ses` is then ignored, and no Send
   * events are published, so a crashed sender's recipients stay `unknown`.
   */
  sesEndpoint?: string;
  /**
   * The blog this stack sends: its title, language and address become the identity of every
   * page and email, and its posts are served under /blog/ so their links answer.
   */
  blog?: LocalBlog;
  /**
   * How often waiting confirmations, welcomes and reminders are looked at and expired pending
   * signups deleted (what the AWS schedule does every 5 minutes).
   */
  waitingConfirmationsEveryMs?: number;
}

export interface LocalStack {
  urls: { app: string; inbox: string; dynamodb: string; blog?: string };
  blog?: LocalBlog;
  /** The ports actually bound. */
  ports: LocalPorts;
  composition: LocalServices;
  /** The in-process dispatch and send queues (what SQS and the Lambdas do on AWS). */
  sending: LocalSending;
  /** The webhook's ingest queue, the scheduling timers, and what `publish` ingests with. */
  ingest: LocalIngest;
  /** Runs what the timer runs (the AWS schedule's work) now, after any run in progress. */
  runTimer(): Promise<LocalTimerRun>;
  /** Builds and starts the weekly digest due now (its timer and `digest --send` call this). */
  digest(at?: Date): Promise<DigestOutcome>;
  /** Runs `task` during `stop()`, before the servers close (queues, timers, demo work). */
  onStop(task: () => Promise<void> | void): void;
  stop(): Promise<void>;
}

/** What one run of the local stack's timer did. */
export interface LocalTimerRun {
  /** Confirmations that had waited for the hourly cap. */
  confirmations: number;
  welcomes: number;
  reminders: number;
  /** Pending signups past their 7 days, deleted (DynamoDB's TTL on AWS). */
  deleted: number;
}

/**
 * What the API function's EventBridge schedule does on AWS, on a timer here: confirmations held
 * back by the hourly cap go out when the hour allows, due welcomes and reminders are sent, and
 * (DynamoDB's TTL on AWS) expired pending signups are deleted; first, an edited welcome.md of
 * the blog is read again (a push does that on AWS). Runs never overlap. Returns the
 * cleanup that stops it and waits for a run in progress, and a way to run it now.
 */
function startTimer(
  composition: LocalServices,
  welcome: { refresh(): Promise<void> },
  everyMs: number,
): { stop: () => Promise<void>; runNow: () => Promise<LocalTimerRun> } {
  let running: Promise<unknown> = Promise.resolve();
  const once = async (): Promise<LocalTimerRun> => {
    await welcome.refresh();
    const confirmations = await composition.subscriptions.sendWaitingConfirmations();
    const followUps = await composition.subscriptions.sendDueFollowUps();
    const deleted = await deleteExpiredSubscribers(
      composition.dynamo,
      composition.resources.subscribersTable,
      composition.clock,
    );
    if (deleted > 0) logger.info('subscriber.pending_deleted', { count: deleted });
    return { confirmations, ...followUps, deleted };
  };
  const runNow = () => {
    const run = running.then(once);
    running = run.catch(() => undefined);
    return run;
  };
  const timer = setInterval(() => {
    runNow().catch((error: unknown) => logger.error('local.timer_failed', { error: error as Error }));
  }, everyMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
    runNow,
  };
}

/** Fails before anything starts if a fixed port is taken, naming the setting that moves it. */
async function checkPortsFree(ports: LocalPorts): Promise<void> {
  for (const key of Object.keys(ports) as (keyof LocalPorts)[]) {
    if (ports[key] === 0) continue;
    const probe = createServer();
    await listen(probe, ports[key], LOCAL_PORT_SETTINGS[key]);
    await close(probe);
  }
}

/**
 * The whole system on one machine, in this process: dynalite (tables created on first start),
 * the SES emulator with its inbox, and the HTTP app on a Node server, wired by local/local-services.
 */
export async function startLocalStack(options: StartLocalStackOptions): Promise<LocalStack> {
  const resources = options.resources ?? readResources();
  const stopTasks: (() => Promise<void> | void)[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  let closeServer: (() => Promise<void>) | undefined;
  const stopAll = async () => {
    for (const task of stopTasks.splice(0).reverse()) {
      try {
        await task();
      } catch (error) {
        logger.error('local.stop_task_failed', { error: error as Error });
      }
    }
    // No new requests first, then the queues and clients they use, then the stand-ins.
    await closeServer?.();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    // Checked first: a second stack on the same data folder would corrupt dynalite's files.
    await checkPortsFree(options.sesEndpoint === undefined ? options.ports : { ...options.ports, ses: 0 });
    const secrets = await loadOrCreateLocalSecrets(options.dataDir);
    const dynamo = await startDynalite({
      path: join(options.dataDir, 'dynamodb'),
      port: options.ports.dynamodb,
      setting: LOCAL_PORT_SETTINGS.dynamodb,
    });
    cleanups.push(dynamo.stop);
    const ses: Pick<LocalSes, 'url' | 'port' | 'stop'> & Partial<LocalSes> =
      options.sesEndpoint === undefined
        ? await startSesEmulator({
            port: options.ports.ses,
            setting: LOCAL_PORT_SETTINGS.ses,
            inboxFile: join(options.dataDir, 'inbox.jsonl'),
          })
        : { url: options.sesEndpoint, port: Number(new URL(options.sesEndpoint).port), stop: async () => {} };
    cleanups.push(ses.stop);

    // The server listens before the app exists because links in emails need its real port.
    let resolveApp!: (app: HttpApp) => void;
    const appReady = new Promise<HttpApp>((resolve) => (resolveApp = resolve));
    let appUrl = '';
    const blog = options.blog;
    const server = createNodeServer(
      async (request) => (await appReady)(request),
      blog === undefined ? undefined : (incoming, outgoing) => blog.handle(incoming, outgoing, appUrl),
    );
    const httpPort = await listen(server, options.ports.http, LOCAL_PORT_SETTINGS.http);
    closeServer = () => close(server);
    appUrl = `http://localhost:${httpPort}`;

    const identity = blog?.identity(appUrl);
    const settings =
      identity === undefined
        ? localSettings(options.settings, httpPort)
        : withSiteIdentity(localSettings(options.settings, httpPort), identity);
    // CLI commands in other terminals (imports send confirmations) speak with the same name.
    if (identity === undefined) await forgetSiteIdentity(options.dataDir);
    else await saveSiteIdentity(options.dataDir, identity);
    const composition = createLocalServices({
      endpoints: { dynamodb: dynamo.endpoint, ses: ses.url },
      settings,
      resources,
      secrets,
      clock: options.clock,
    });
    await ensureTables(composition.dynamo, localTables(resources));
    cleanups.push(async () => {
      composition.dynamo.destroy();
      composition.ses.destroy();
    });
    // Before the clients close: the clicks counted in the last moment.
    cleanups.push(() => composition.clicks.flush());
    // After the senders stop, before the database closes: Send events still being recorded.
    cleanups.push(async () => ses.settled?.());
    const sending = await startLocalSending(composition, { sendEvents: ses.publishAcceptedTo !== undefined });
    cleanups.push(() => sending.stop());
    if (ses.publishAcceptedTo !== undefined) {
      // The emulator's Send events reach the same handler SES's reach through SNS on AWS. Those
      // of a crashed run are recorded before anything is resumed, so its recipients are decided.
      await ses.publishAcceptedTo(async (message) => {
        await handleSesEvents(sending.sesEvents, sendAndDeliveryEventsOf(message, settings.configurationSet));
      });
    }
    const ingest = await startLocalIngest(composition, sending);
    cleanups.push(() => ingest.stop());
    const welcome = await watchLocalWelcome(blog, { ...ingest.ports, welcomes: composition.welcomes });
    const timer = startTimer(composition, welcome, options.waitingConfirmationsEveryMs ?? 60_000);
    cleanups.push(timer.stop);
    const digest = (at?: Date) =>
      runWeeklyDigest(
        {
          settings,
          issues: sending.issues,
          subscribers: composition.subscribers,
          dispatchQueue: sending.dispatchQueue,
          clock: composition.clock,
        },
        at,
      );
    cleanups.push(startDigestTimer(digest, settings.digest, composition.clock));
    // `POST /local/publish` and `/local/digest` (the CLI's) exist only here, never behind API Gateway.
    resolveApp(
      createHttpApp({ ...composition.http, github: ingest.github }, [
        ...ROUTES,
        publishRoute(ingest.ports, secrets.webhookSecret),
        digestRoute(() => digest(), secrets.webhookSecret),
      ]),
    );

    let stopping: Promise<void> | undefined;
    return {
      urls: {
        app: appUrl,
        inbox: `http://localhost:${ses.port}`,
        dynamodb: `http://localhost:${dynamo.port}`,
        ...(identity === undefined ? {} : { blog: identity.url }),
      },
      blog,
      ports: { http: httpPort, ses: ses.port, dynamodb: dynamo.port },
      composition,
      sending,
      ingest,
      runTimer: timer.runNow,
      digest,
      onStop: (task) => void stopTasks.push(task),
      stop: () => (stopping ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
