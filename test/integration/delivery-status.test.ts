import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSettings } from '../../functions/commons/config';
import type { LocalSending } from '../../functions/local/local-services';
import { type LocalStack, startLocalStack } from '../../functions/local/stack';
import { testMessage } from './delivery-harness';

const BIN = fileURLToPath(new URL('../../bin/pushletter.js', import.meta.url));

let dataDir: string;
let stack: LocalStack;
let sending: LocalSending;

/** `npx pushletter …` in a process of its own, pointed at the test's stack like at `npm start`. */
function cli(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: {
        ...process.env,
        DYNAMODB_PORT: String(stack.ports.dynamodb),
        SES_PORT: String(stack.ports.ses),
        PORT: String(stack.ports.http),
        PUSHLETTER_DATA_DIR: dataDir,
        POWERTOOLS_LOG_LEVEL: 'ERROR',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('exit', (code) => resolve({ code, out, err }));
  });
}

async function subscribe(count: number, prefix: string): Promise<void> {
  for (let index = 0; index < count; index++) {
    await stack.composition.subscribers.createIfAbsent({
      email: `${prefix}${index}@example.com`,
      state: 'active',
      consent: { at: new Date().toISOString(), source: 'import' },
    });
  }
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pushletter-status-'));
  // A slow account (25 emails/s), so a send is still running when status looks at it.
  stack = await startLocalStack({
    dataDir,
    ports: { http: 0, ses: 0, dynamodb: 0 },
    settings: { ...readSettings({}), maxSendRate: 25 },
  });
  // The stack's own dispatch and send queues, as `pushletter dev` runs them.
  sending = stack.sending;
  await subscribe(120, 'reader');
});

afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('pushletter status', () => {
  it('follows a running send with a progress bar, then prints the counts per state and the rate', async () => {
    const postId = '2026-11-26-status-follow';
    await sending.issues.createIssue({
      postId,
      title: '状态',
      subject: '状态测试',
      state: 'dispatching',
      sendAt: new Date().toISOString(),
      message: testMessage('状态测试'),
    });
    await sending.dispatchQueue.send([{ postId }]);
    const followed = cli('status', postId, '--follow');
    await sending.idle();
    const { code, out, err } = await followed;
    expect(code).toBe(0);
    // Not a terminal: the bar prints a line per 10% instead of redrawing.
    expect(err).toMatch(new RegExp(`sending ${postId}: \\d+/120 \\(\\d+%\\)`));
    expect(err).toContain(`sending ${postId}: 120/120 (100%)`);
    expect(out).toContain(`${postId}: "状态测试"`);
    expect(out).toMatch(/issue\s+dispatched/);
    expect(out).toMatch(/queued\s+0\n/);
    expect(out).toMatch(/sent\s+120\n/);
    expect(out).toMatch(/failed\s+0\n/);
    expect(out).toMatch(/unknown\s+0\n/);
    // The rate is shown (how close it keeps to the limit is the benchmark's business).
    expect(out).toMatch(/send rate +\d+(\.\d)?\/s/);
  });

  it('takes the post file instead of its id, and says clearly when a post was never published', async () => {
    const folder = join(dataDir, 'blog', '_posts');
    await mkdir(folder, { recursive: true });
    const file = join(folder, '2026-11-26-status-follow.md');
    await writeFile(file, '---\ntitle: 状态\n---\n正文\n');
    const byFile = await cli('status', file);
    expect(byFile.code).toBe(0);
    expect(byFile.out).toMatch(/sent\s+120\n/);

    const missing = await cli('status', '2026-01-01-never-sent');
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('no issue for post "2026-01-01-never-sent"');
    expect(missing.err).toContain('pushletter publish');
  });
});
