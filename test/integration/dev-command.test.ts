import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts } from './http-helpers';

/** `npx pushletter dev` as a person runs it: banner, a working form, clean stop on a signal. */
const BIN = fileURLToPath(new URL('../../bin/pushletter.js', import.meta.url));
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pushletter-dev-'));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

function startDev(
  ports: number[],
  args: string[] = [],
): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const [http, ses, dynamodb] = ports;
  const child = spawn(process.execPath, [BIN, 'dev', ...args], {
    env: {
      ...process.env,
      PORT: String(http),
      SES_PORT: String(ses),
      DYNAMODB_PORT: String(dynamodb),
      PUSHLETTER_DATA_DIR: dataDir,
      POWERTOOLS_LOG_LEVEL: 'WARN',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

async function waitFor(check: () => boolean, what: string, exited: Promise<unknown>): Promise<void> {
  let done = false;
  void exited.then(() => (done = true));
  for (let attempt = 0; attempt < 600 && !check(); attempt++) {
    if (done) throw new Error(`pushletter dev exited before ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

describe('pushletter dev', () => {
  it('prints the URLs, serves the form and the inbox, and stops cleanly on SIGTERM', async () => {
    const ports = await freePorts(3);
    const dev = startDev(ports);
    try {
      await waitFor(() => dev.output().includes('Press Ctrl-C to stop'), 'the banner', dev.exited);
      expect(dev.output()).toContain(`signup form  http://localhost:${ports[0]}/`);
      expect(dev.output()).toContain(`inbox        http://localhost:${ports[1]}/`);
      expect(dev.output()).toContain(`DynamoDB     http://localhost:${ports[2]}/`);
      const form = await fetch(`http://127.0.0.1:${ports[0]}/`);
      expect(form.status).toBe(200);
      expect(await form.text()).toContain('<form method="post" action="subscribe">');
      expect((await fetch(`http://127.0.0.1:${ports[1]}/store`)).status).toBe(200);
    } finally {
      dev.child.kill('SIGTERM');
    }
    expect(await dev.exited).toBe(0);
    expect(dev.output()).toContain('stopped.');
  });

  it('exits with one line naming the busy port and the setting that moves it', async () => {
    const [busy, ...others] = await freePorts(3);
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(busy, '127.0.0.1', resolve));
    try {
      const dev = startDev([others[0]!, busy!, others[1]!]);
      expect(await dev.exited).toBe(1);
      expect(dev.output()).toContain(
        `pushletter dev: port ${busy} is already in use (is another pushletter dev running?). Stop it, or pick another port with SES_PORT=<port>.`,
      );
      expect(dev.output()).not.toMatch(/\n\s+at /);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('serves and speaks for the blog named by --site: its title on every page, its posts under /blog/', async () => {
    const ports = await freePorts(3);
    const dev = startDev(ports, ['--site', 'test/fixtures/blog-en']);
    try {
      await waitFor(() => dev.output().includes('Press Ctrl-C to stop'), 'the banner', dev.exited);
      const blogUrl = `http://localhost:${ports[0]}/blog/`;
      expect(dev.output()).toMatch(new RegExp(`blog +${blogUrl.replace(/[/.]/g, '\\$&')} +\\(Field Notes,`));
      const app = `http://127.0.0.1:${ports[0]}`;
      const form = await (await fetch(`${app}/`)).text();
      expect(form).toContain('<h1>Subscribe to Field Notes</h1>');
      expect(form).toContain(`<a href="http://localhost:${ports[0]}/blog">Back to Field Notes</a>`);
      const index = await fetch(`${app}/blog/`);
      expect(index.status).toBe(200);
      const listed = [...(await index.text()).matchAll(/<li><a href="([^"]+)">([^<]+)<\/a>/g)].map((match) => match[2]);
      expect(listed).toContain('Shipping Helm charts without surprises');
      expect(listed).toHaveLength(3);
      const image = await fetch(`${app}/blog/assets/release-pipeline.png`);
      expect([image.status, image.headers.get('content-type')]).toEqual([200, 'image/png']);
      for (const hidden of [
        '/blog/_config.yml',
        '/blog/_posts/2024-04-02-hello-world.md',
        '/blog/..%2f..%2fpackage.json',
      ]) {
        expect((await fetch(`${app}${hidden}`)).status, hidden).toBe(404);
      }
    } finally {
      dev.child.kill('SIGTERM');
    }
    expect(await dev.exited).toBe(0);
  });

  it('refuses a --site folder that is not a Jekyll blog, in one line, before starting anything', async () => {
    const dev = startDev(await freePorts(3), ['--site', 'test/fixtures/csv']);
    expect(await dev.exited).toBe(1);
    expect(dev.output().trim()).toMatch(
      /^pushletter dev: --site test\/fixtures\/csv: no _config.yml there; pass the folder of a Jekyll blog/,
    );
    expect(dev.output()).not.toContain('running locally');
  });
});
