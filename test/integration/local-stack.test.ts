import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack } from '../../functions/local/stack';
import { clearEmails, storedEmails } from './delivery-harness';
import { confirmLink, heading, postForm, testSettings, uniqueAddress } from './http-helpers';

/** What `pushletter dev` promises: data, secrets and the inbox survive a restart; a busy port is a clear error. */
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pushletter-stack-'));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const FREE = { http: 0, ses: 0, dynamodb: 0 };

async function occupy(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

describe('the local stack', () => {
  it('keeps subscribers and the token key across a restart, so links already mailed still work', async () => {
    const address = uniqueAddress('restart');
    const first = await startLocalStack({ dataDir, ports: FREE, settings: testSettings() });
    await postForm(`${first.urls.app}/subscribe`, { email: address });
    const link = new URL(await confirmLink(first, address));
    const inbox = await storedEmails(`http://127.0.0.1:${first.ports.ses}`);
    expect(inbox.length).toBeGreaterThan(0);
    await first.stop();

    const secrets = await readFile(join(dataDir, 'secrets.json'), 'utf8');
    expect(JSON.parse(secrets)).toMatchObject({ tokenKey: expect.any(String), webhookSecret: expect.any(String) });
    expect((await stat(join(dataDir, 'secrets.json'))).mode & 0o077).toBe(0);

    const second = await startLocalStack({ dataDir, ports: FREE, settings: testSettings() });
    try {
      expect((await second.composition.subscribers.findByEmail(address))?.state).toBe('pending');
      const confirmed = await postForm(`${second.urls.app}${link.pathname}${link.search}`, {});
      expect(heading(await confirmed.text())).toBe('You are subscribed');
      expect(await readFile(join(dataDir, 'secrets.json'), 'utf8')).toBe(secrets);
      // The confirmation email is still in the inbox, read back from .data/inbox.jsonl; the
      // welcome after it comes from this stack.
      const secondInbox = `http://127.0.0.1:${second.ports.ses}`;
      expect((await storedEmails(secondInbox)).slice(0, inbox.length)).toEqual(inbox);
      await clearEmails(secondInbox);
    } finally {
      await second.stop();
    }
    // Emptied on purpose, it stays empty on the next start.
    const third = await startLocalStack({ dataDir, ports: FREE, settings: testSettings() });
    try {
      expect(await storedEmails(`http://127.0.0.1:${third.ports.ses}`)).toEqual([]);
    } finally {
      await third.stop();
    }
  });

  for (const [key, setting] of [
    ['http', 'PORT'],
    ['ses', 'SES_PORT'],
    ['dynamodb', 'DYNAMODB_PORT'],
  ] as const) {
    it(`names the port and ${setting} when the ${key} port is taken, and leaves nothing running`, async () => {
      const { server, port } = await occupy();
      try {
        const started = startLocalStack({ dataDir, ports: { ...FREE, [key]: port }, settings: testSettings() });
        await expect(started).rejects.toThrow(new RegExp(`port ${port} is already in use.*${setting}=<port>`));
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
      // Nothing from the failed start holds the data folder: a new stack opens it.
      const stack = await startLocalStack({ dataDir, ports: FREE, settings: testSettings() });
      await stack.stop();
    });
  }
});
