import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLocalPost } from '../../functions/local/publish-route';
import { ingestPost } from '../../functions/publishing/ingest-post';
import { inbox, postForm, SITE_URL, startTestStack, type TestStack, uniqueAddress } from './http-helpers';

/**
 * Mail security gateways open every link of every message with GET, HEAD and OPTIONS. Every
 * kind of email the project sends (confirmation, post, test, preview) is sent here, each of its
 * links that leads to the API is opened the way a scanner does, and nothing may change.
 */
const SITE = fileURLToPath(new URL('../fixtures/publish-blog/', import.meta.url));
const EDITOR = 'editor@example.org';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ editors: [EDITOR] });
});

afterAll(async () => {
  await stack?.dispose();
});

async function snapshot(): Promise<Map<string, string>> {
  const states = new Map<string, string>();
  for await (const page of stack.composition.subscribers.scanAll())
    for (const subscriber of page) states.set(subscriber.email, subscriber.state);
  return states;
}

function linksIn(text: string): string[] {
  return [...text.replaceAll('&amp;', '&').matchAll(/https?:\/\/[^\s"'<>)\]]+/g)].map((match) => match[0]);
}

describe('a link scanner', () => {
  it('opens every link in every email with GET, HEAD and OPTIONS and changes nothing', async () => {
    const consent = { at: new Date().toISOString(), source: 'import' };
    for (const name of ['scan-a', 'scan-b']) {
      await stack.composition.subscribers.createIfAbsent({ email: uniqueAddress(name), state: 'active', consent });
    }
    const pending = uniqueAddress('scan-pending');
    expect((await postForm(`${stack.urls.app}/subscribe`, { email: pending })).status).toBe(200);
    const ports = stack.ingest.ports;
    expect(
      (await ingestPost(await readLocalPost(join(SITE, '_posts', '2024-10-02-concurrent.md')), ports)).status,
    ).toBe('dispatching');
    await stack.sending.idle();
    expect(
      (
        await ingestPost(await readLocalPost(join(SITE, '_posts', '2024-10-03-tested-first.md')), ports, {
          testAddress: 'tester@example.org',
        })
      ).status,
    ).toBe('test');
    expect((await ingestPost(await readLocalPost(join(SITE, '_drafts', 'work-in-progress.md')), ports)).status).toBe(
      'preview',
    );

    const emails = await inbox(stack);
    const subjects = emails.map((email) => email.subject);
    expect(subjects).toContain('Confirm your subscription to Example Blog');
    expect(subjects.some((subject) => subject.startsWith('[Test]') || subject.startsWith('[测试]'))).toBe(true);
    expect(subjects.some((subject) => subject.startsWith('[Preview]') || subject.startsWith('[预览]'))).toBe(true);
    expect(emails.filter((email) => !/^\[|^Confirm/.test(email.subject)).length).toBeGreaterThanOrEqual(2);

    const apiLinks = new Set<string>();
    for (const email of emails) {
      for (const link of [...linksIn(email.body.html ?? ''), ...linksIn(email.body.text ?? '')]) {
        if (link.startsWith(stack.urls.app)) apiLinks.add(link);
      }
    }
    const paths = new Set([...apiLinks].map((link) => new URL(link).pathname));
    expect(paths).toContain('/confirm');
    expect(paths).toContain('/unsubscribe');
    expect(paths).toContain('/preferences');

    const before = await snapshot();
    const mailed = emails.length;
    for (const link of apiLinks) {
      for (const init of [
        { method: 'GET' },
        { method: 'HEAD' },
        { method: 'OPTIONS', headers: { origin: SITE_URL, 'access-control-request-method': 'POST' } },
        { method: 'OPTIONS' },
      ] as RequestInit[]) {
        const response = await fetch(link, { ...init, redirect: 'manual' });
        expect(response.status, `${init.method} ${new URL(link).pathname}`).toBeLessThan(500);
        await response.arrayBuffer();
      }
    }
    expect(await snapshot()).toEqual(before);
    expect(before.get(pending)).toBe('pending');
    expect(await inbox(stack)).toHaveLength(mailed);
  });
});
