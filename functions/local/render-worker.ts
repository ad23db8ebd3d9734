import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Settings } from '../commons/config';
import { InvalidInputError, PushletterError } from '../commons/errors';
import { logger } from '../commons/logger';
import type { PostFile, RenderedPost, RenderOptions, RenderPost } from '../publishing/ingest-post';
import { PostLimitError, RENDER_LIMITS } from '../render/limits';

/** What the thread receives: renderPostFile's arguments. */
export interface RenderRequest {
  file: PostFile;
  settings: Settings;
  now: Date;
  options: RenderOptions;
}

export interface RenderBudget {
  timeoutMs: number;
  memoryMb: number;
}

type Reply =
  | { ok: true; result: RenderedPost }
  | { ok: false; error: { name: string; message: string; code?: string } };

// Paths joined by hand: bundlers rewrite `new URL('./x', import.meta.url)` into imports of x.
const HERE = dirname(fileURLToPath(import.meta.url));
const BOOTSTRAP = join(HERE, 'worker-loader.mjs');
const THREAD = join(HERE, 'render-thread.ts');
/** The thread's module built beside the CLI in dist/ (bin/build-cli.mjs), when this code runs from there. */
const BUILT_THREAD = join(HERE, 'render-thread.js');

/** The error the thread reported, as the class the ingest worker classifies (permanent or not). */
function rebuild(error: { name: string; message: string; code?: string }): Error {
  if (error.name === 'PostLimitError')
    return new PostLimitError(error.code as ConstructorParameters<typeof PostLimitError>[0], error.message);
  if (error.name === 'InvalidInputError') return new InvalidInputError(error.code ?? 'POST_INVALID', error.message);
  if (error.code !== undefined) return new PushletterError(error.code, error.message);
  return new Error(error.message);
}

/**
 * Renders posts in a worker thread for the local stack, where the HTTP app, the queues and
 * the SES emulator share one process: a post that renders for a minute, or needs a gigabyte,
 * costs the worker, never the form. One render at a time; a render over its time or memory
 * budget ends the thread (a new one starts for the next post) and fails the post for good.
 */
export class RenderWorker {
  private worker: Worker | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly budget: RenderBudget = {
      timeoutMs: RENDER_LIMITS.workerTimeoutMs,
      memoryMb: RENDER_LIMITS.workerMemoryMb,
    },
  ) {}

  readonly render: RenderPost = (file, settings, now, options) => {
    const run = this.queue.then(() => this.renderNow({ file, settings, now, options }));
    this.queue = run.catch(() => undefined);
    return run;
  };

  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private thread(): Worker {
    if (this.worker === undefined) {
      const resourceLimits = { maxOldGenerationSizeMb: this.budget.memoryMb };
      this.worker = existsSync(BUILT_THREAD)
        ? new Worker(BUILT_THREAD, { resourceLimits })
        : new Worker(BOOTSTRAP, { workerData: { module: THREAD }, resourceLimits });
      // An idle worker must not keep a finished process (a test, a CLI command) alive.
      this.worker.unref();
    }
    return this.worker;
  }

  private renderNow(request: RenderRequest): Promise<RenderedPost> {
    const worker = this.thread();
    const path = request.file.path;
    return new Promise<RenderedPost>((resolve, reject) => {
      const settle = (error: Error | undefined, result?: RenderedPost) => {
        clearTimeout(timer);
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        if (error) reject(error);
        else resolve(result!);
      };
      const discard = () => {
        if (this.worker === worker) this.worker = undefined;
        void worker.terminate();
      };
      const timer = setTimeout(() => {
        discard();
        logger.warn('render.worker_timeout', { path, timeoutMs: this.budget.timeoutMs });
        settle(
          new PostLimitError(
            'POST_RENDER_TIMEOUT',
            `${path}: rendering took longer than ${this.budget.timeoutMs / 1000} s, the limit for one post; shorten it or simplify its Liquid`,
          ),
        );
      }, this.budget.timeoutMs);
      const onMessage = (reply: Reply) =>
        settle(reply.ok ? undefined : rebuild(reply.error), reply.ok ? reply.result : undefined);
      const onError = (error: Error & { code?: string }) => {
        discard();
        settle(
          error.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new PostLimitError(
                'POST_RENDER_MEMORY',
                `${path}: rendering needed more than ${this.budget.memoryMb} MB, the limit for one post; shorten it or split large tables`,
              )
            : error,
        );
      };
      const onExit = (code: number) => {
        discard();
        settle(new Error(`the render worker stopped (exit code ${code}) while rendering ${path}`));
      };
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
      worker.postMessage(request);
    });
  }
}
