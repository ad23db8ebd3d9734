import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LocalStackChildTask } from './local-stack-child';

const CHILD = fileURLToPath(new URL('./local-stack-child.ts', import.meta.url));

export interface LocalStackProcess {
  child: ChildProcess;
  /** The signal that ended it (SIGKILL for a kill), null for an exit of its own. */
  exited: Promise<NodeJS.Signals | null>;
  /** The child's first stdout line, parsed: what it did once its stack was up. */
  ready: Promise<Record<string, unknown>>;
}

/** `pushletter dev` in a process of its own (local-stack-child.ts), for a test to kill. */
export function startLocalStackProcess(task: LocalStackChildTask): LocalStackProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(task)], {
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(JSON.parse(out.slice(0, out.indexOf('\n'))) as Record<string, unknown>);
    });
    child.once('exit', (code, signal) =>
      reject(new Error(`the dev server process ended (${signal ?? code}) before it was ready`)),
    );
  });
  // A kill before it was ready is the test's to report, not an unhandled rejection.
  ready.catch(() => undefined);
  return { child, exited, ready };
}
