import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DomUtils, parseDocument } from 'htmlparser2';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPublish } from '../../functions/cli/publish-command';
import { run as runRender } from '../../functions/cli/render-command';
import { readSettings } from '../../functions/commons/config';
import { type LocalStack, startLocalStack } from '../../functions/local/stack';
import { importSubscribers } from '../../functions/subscribers/import';
import { cliAgainst, heading, inbox } from './http-helpers';

/**
 * The unsubscribe link of a copy no subscriber received, followed against the local stack: a
 * `render` preview and a `publish --test` copy must lead to a page that says what they were,
 * never to a placeholder or to "This unsubscribe link does not work", and must change nothing.
 */
const SITE = fileURLToPath(new URL('../fixtures/publish-blog/', import.meta.url));
const POST = join(SITE, '_posts', '2024-10-03-tested-first.md');
const READER = 'reader@example.org';
const TESTER = 'me@example.com';

let stack: LocalStack;
let dataDir: string;
let outDir: string;
let server: string;
let cli: ReturnType<typeof cliAgainst>;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'pushletter-preview-links-'));
  outDir = mkdtempSync(join(tmpdir(), 'pushletter-preview-out-'));
  stack = await startLocalStack({
    dataDir,
    ports: { http: 0, ses: 0, dynamodb: 0 },
    settings: readSettings({ PUSHLETTER_LANGUAGE: 'en' }),
  });
  server = `http://127.0.0.1:${stack.ports.http}`;
  cli = cliAgainst(stack, dataDir);
  const { composition } = stack;
  await importSubscribers([{ line: 2, email: READER }], {
    store: composition.subscribers,
    service: composition.subscriptions,
    clock: composition.clock,
    confirmed: true,
  });
});

afterAll(async () => {
  cli?.restore();
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(outDir, { recursive: true, force: true });
});

const UNSUBSCRIBE_LINK = /https?:\/\/[^\s"<>]+\/unsubscribe\?token=[^\s"<>]+/;
const PREFERENCES_LINK = /https?:\/\/[^\s"<>]+\/preferences\?token=[^\s"<>]+/;

/** The stack listens on 127.0.0.1; its public URL names it `localhost`. */
const onStack = (link: string) => link.replace(/^http:\/\/localhost:\d+/, server);

async function followLink(
  link: string,
): Promise<{ get: { status: number; page: string }; oneClick: { status: number; text: string } }> {
  const page = await fetch(onStack(link));
  const oneClick = await fetch(onStack(link), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'List-Unsubscribe=One-Click',
  });
  return {
    get: { status: page.status, page: heading(await page.text()) },
    oneClick: { status: oneClick.status, text: await oneClick.text() },
  };
}

/** The "Manage your subscription" link of a copy: a page saying what it was, whose forms change nothing. */
async function followPreferencesLink(link: string): Promise<{ get: string; save: string; leave: string }> {
  const post = async (body: string) =>
    heading(
      await (
        await fetch(onStack(link), {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body,
        })
      ).text(),
    );
  return {
    get: heading(await (await fetch(onStack(link))).text()),
    save: await post('frequency=digest&lang=zh-CN'),
    leave: await post('action=unsubscribe'),
  };
}

async function readerStillSubscribed(): Promise<boolean> {
  const subscriber = await stack.composition.subscribers.findByEmail(READER);
  return subscriber?.state === 'active';
}

describe('the unsubscribe link of a preview or a test copy', () => {
  it('is a working link to a page saying it came from a preview, in each file render writes', async () => {
    const { out, err } = cli.streams();
    const settings = readSettings({ PUSHLETTER_PUBLIC_URL: server, PUSHLETTER_LANGUAGE: 'en' });
    expect(await runRender([POST, '--out', outDir], { out: out.resume(), err, settings })).toBe(0);
    const html = readFileSync(join(outDir, 'tested-first.html'), 'utf8');
    const text = readFileSync(join(outDir, 'tested-first.txt'), 'utf8');
    const mail = await simpleParser(readFileSync(join(outDir, 'tested-first.eml')));
    for (const part of [html, text]) expect(part).not.toContain('%%');
    const links = [
      UNSUBSCRIBE_LINK.exec(text)?.[0],
      DomUtils.findOne(
        (element) => element.name === 'a' && /\/unsubscribe\?/.test(element.attribs.href ?? ''),
        parseDocument(html).children,
      )?.attribs.href,
      (mail.headers.get('list') as { unsubscribe: { url: string } }).unsubscribe.url,
    ];
    expect(new Set(links).size).toBe(1);

    const answer = await followLink(links[0]!);
    expect(answer.get).toEqual({ status: 200, page: 'This is a preview link' });
    expect(answer.oneClick.status).toBe(200);
    expect(answer.oneClick.text).toMatch(/test copy or preview/);
    expect(await readerStillSubscribed()).toBe(true);

    const manage = [PREFERENCES_LINK.exec(text)?.[0], PREFERENCES_LINK.exec(html)?.[0]];
    expect(new Set(manage).size).toBe(1);
    expect(await followPreferencesLink(manage[0]!)).toEqual({
      get: 'This is a preview link',
      save: 'This is a preview link',
      leave: 'This is a preview link',
    });
    expect(await readerStillSubscribed()).toBe(true);
  });

  it('says clearly that a publish --test copy was a test, and unsubscribes nobody', async () => {
    const { out, err } = cli.streams();
    expect(await runPublish([POST, '--test', TESTER], { out, err })).toBe(0);
    const [copy] = await inbox(stack, TESTER);
    const link = UNSUBSCRIBE_LINK.exec(copy?.body.text ?? '')?.[0];
    expect(link).toBeDefined();
    expect(copy?.body.html).toContain(link!);

    const answer = await followLink(link!);
    expect(answer.get).toEqual({ status: 200, page: 'This was a test copy' });
    expect(answer.oneClick.status).toBe(200);
    expect(await readerStillSubscribed()).toBe(true);

    const manage = PREFERENCES_LINK.exec(copy?.body.text ?? '')?.[0];
    expect(copy?.body.html).toContain(manage!);
    expect(await followPreferencesLink(manage!)).toEqual({
      get: 'This was a test copy',
      save: 'This was a test copy',
      leave: 'This was a test copy',
    });
    expect(await readerStillSubscribed()).toBe(true);
  });
});
