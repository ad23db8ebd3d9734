import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryCounterStore } from '../../functions/adapters/memory/memory-counter-store';
import { readSettings } from '../../functions/commons/config';
import { createHttpApp } from '../../functions/http/app';
import type { AppDependencies, HttpRequest } from '../../functions/http/types';
import { postScope } from '../../functions/stats/counted';
import type { CounterStore } from '../../functions/stats/counters';
import { LinkSigner } from '../../functions/stats/tracked-links';

/** The redirect, the pixel and the signup page's promise, on the HTTP app with counters in memory. */
const signer = new LinkSigner(randomBytes(32));
const LINKS = ['https://blog.example.org/p/', 'https://example.org/a?x=1#y'];

function app(environment: Record<string, string>, counters: Pick<CounterStore, 'add'> = new MemoryCounterStore()) {
  const dependencies: AppDependencies = {
    settings: readSettings(environment),
    clock: { now: () => new Date() },
    subscriptions: {} as AppDependencies['subscriptions'],
    tracking: { signer, links: async (postId) => (postId === 'p' ? LINKS : undefined), counters },
  };
  return createHttpApp(dependencies);
}

function request(method: string, path: string, userAgent = 'Mozilla/5.0 Firefox/133.0'): HttpRequest {
  return {
    method,
    path,
    query: new URLSearchParams(),
    headers: { 'user-agent': userAgent },
    body: Buffer.alloc(0),
    bodyTooLarge: false,
    clientIp: '192.0.2.1',
  };
}

const AGGREGATE = { PUSHLETTER_TRACKING: 'aggregate', PUSHLETTER_TRACKING_OPENS: 'true' };

describe('the open pixel', () => {
  it('is a GIF, counted once per GET for its post, and not for HEAD', async () => {
    const counters = new MemoryCounterStore();
    const http = app(AGGREGATE, counters);
    const path = `/o/p.${signer.open('p')}.gif`;
    const answer = await http(request('GET', path));
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('image/gif');
    expect(Buffer.from(answer.body, 'base64').subarray(0, 6).toString()).toBe('GIF89a');
    await http(request('HEAD', path));
    expect(await counters.read(postScope('p'))).toEqual({ opens: 1 });
  });

  it('is a 404 with another signature, and counts nothing', async () => {
    const counters = new MemoryCounterStore();
    const answer = await app(AGGREGATE, counters)(request('GET', `/o/p.${signer.open('q')}.gif`));
    expect(answer.status).toBe(404);
    expect(await counters.read(postScope('p'))).toEqual({});
  });
});

describe('the click redirect', () => {
  it('still leads the reader to the link when counting fails', async () => {
    const failing = { add: async () => Promise.reject(new Error('throttled')) };
    const answer = await app(AGGREGATE, failing)(request('GET', `/r/p/1.${signer.click('p', 1)}`));
    expect(answer).toMatchObject({ status: 302, headers: { location: LINKS[1] } });
  });

  it('keeps answering with tracking off (links of posts sent while it was on), counting nothing', async () => {
    const counters = new MemoryCounterStore();
    const answer = await app({}, counters)(request('GET', `/r/p/1.${signer.click('p', 1)}`));
    expect(answer).toMatchObject({ status: 302, headers: { location: LINKS[1] } });
    expect(await counters.read(postScope('p'))).toEqual({});
  });
});

describe('the signup page', () => {
  it('promises no tracking with tracking off', async () => {
    const page = await app({})(request('GET', '/'));
    expect(page.body).toContain('No tracking');
  });

  it('says what is counted with aggregate, in English and Chinese', async () => {
    const clicks = await app({ PUSHLETTER_TRACKING: 'aggregate' })(request('GET', '/'));
    expect(clicks.body).not.toContain('No tracking');
    expect(clicks.body).toContain('We count how often each link in a post is clicked, added up over all readers');
    expect(clicks.body).not.toContain('opened');
    const opens = await app(AGGREGATE)({ ...request('GET', '/'), query: new URLSearchParams('lang=zh-CN') });
    expect(opens.body).toContain('每个链接被点击的次数');
    expect(opens.body).toContain('文章被打开的次数');
    expect(opens.body).not.toContain('不做追踪');
  });
});
