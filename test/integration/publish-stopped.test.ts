import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts } from './http-helpers';

/**
 * `pushletter publish` follows a send through the running stack; when that stack dies mid-send
 * (Ctrl-C, a crash) the editor gets one line that says what happened and what to do, exit 1.
 */
const BIN = fileURLToPath(new URL('../../bin/pushletter.js', import.meta.url));
const POST = fileURLToPath(new URL('../fixtures/publish-blog/_posts/2024-10-02-concurrent.md', import.meta.url));
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pushletter-stopped-'));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

interface Running {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function run(args: string[], env: Record<string, string>): Running {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 900 && !check(); attempt++) await new Promise((resolve) => setTimeout(resolve, 100));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

describe('pushletter publish when the stack stops mid-send', () => {
  it('prints one clear line and exits 1', async () => {
    const [http, ses, dynamodb] = await freePorts(3);
    // Slow sending, so the stack is still sending when it is killed.
    const env = {
      PORT: String(http),
      SES_PORT: String(ses),
      DYNAMODB_PORT: String(dynamodb),
      PUSHLETTER_DATA_DIR: dataDir,
      PUSHLETTER_MAX_SEND_RATE: '2',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      CI: 'true',
    };
    const dev = run(['dev'], env);
    try {
      await waitFor(() => dev.out().includes('Press Ctrl-C to stop'), 'the local stack');
      const csv = join(dataDir, 'readers.csv');
      await writeFile(
        csv,
        `email\n${Array.from({ length: 60 }, (_, index) => `stopped-${index}@example.org`).join('\n')}\n`,
      );
      expect(await run(['subscribers', 'import', csv, '--confirmed'], env).exited).toBe(0);

      const publish = run(['publish', POST], env);
      await waitFor(() => publish.out().includes('publishing'), 'the send to start');
      dev.child.kill('SIGKILL');
      expect(await publish.exited).toBe(1);
      const lines = publish
        .err()
        .trim()
        .split('\n')
        .filter((line) => !/^sending .*: \d+\/\d+/.test(line));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^pushletter publish: the local stack stopped answering while sending 2024-10-02-concurrent; start it again with `npx pushletter dev`/,
      );
      expect(publish.err()).not.toMatch(/ECONNREFUSED|at .*\.js:\d+|Error:/);
    } finally {
      dev.child.kill('SIGKILL');
      await dev.exited;
    }
  });
});
