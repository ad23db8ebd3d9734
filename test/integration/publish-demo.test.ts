import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSettings } from '../../functions/commons/config';
import { DEMO_SUBSCRIBERS, runDemo } from '../../functions/local/demo';
import { type LocalStack, startLocalStack } from '../../functions/local/stack';
import { clearEmails, copiesByAddress, storedEmails } from './delivery-harness';

let dataDir: string;
let stack: LocalStack | undefined;
const start = () => startLocalStack({ dataDir, ports: { http: 0, ses: 0, dynamodb: 0 }, settings: readSettings({}) });

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'pushletter-demo-'));
});

afterAll(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start (the demo)', () => {
  it('sends the example post once to each demo subscriber with a working unsubscribe link, and not again on the next start', async () => {
    stack = await start();
    const inbox = `http://127.0.0.1:${stack.ports.ses}`;
    await clearEmails(inbox);
    const lines: string[] = [];
    await runDemo(stack, (line) => lines.push(line));
    expect(lines.join('\n')).toMatch(/published "Welcome to the newsletter · 欢迎订阅"/);

    const emails = await storedEmails(inbox);
    expect(copiesByAddress(emails)).toEqual(new Map(DEMO_SUBSCRIBERS.map((subscriber) => [subscriber.email, 1])));
    const links = emails.map(
      (email) => email.body.html?.match(/href="(http:\/\/localhost:\d+\/unsubscribe\?token=[^"]+)"/)?.[1],
    );
    expect(new Set(links).size).toBe(DEMO_SUBSCRIBERS.length);

    // One reader leaves with the one-click POST their email client would make.
    const leaving = emails.findIndex((email) => email.destination.to.includes('grace@example.com'));
    const link = new URL(links[leaving]!.replace(/&amp;/g, '&'));
    const response = await fetch(`http://127.0.0.1:${stack.ports.http}${link.pathname}${link.search}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(response.status).toBe(200);
    expect((await stack.composition.subscribers.findByEmail('grace@example.com'))?.state).toBe('unsubscribed');

    // The second start: same data folder, nobody is mailed again and the reader who left stays gone.
    await stack.stop();
    stack = await start();
    const again: string[] = [];
    await runDemo(stack, (line) => again.push(line));
    expect(again.join('\n')).toMatch(/published on an earlier start/);
    await stack.sending.idle();
    // The emulator's store lives as long as this process: still the first start's copies only.
    expect(copiesByAddress(await storedEmails(`http://127.0.0.1:${stack.ports.ses}`))).toEqual(
      new Map(DEMO_SUBSCRIBERS.map((subscriber) => [subscriber.email, 1])),
    );
    expect((await stack.composition.subscribers.findByEmail('grace@example.com'))?.state).toBe('unsubscribed');
  });
});
