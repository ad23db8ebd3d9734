import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../functions/local/stack';
import { importSubscribers } from '../../functions/subscribers/import';
import { copiesByAddress, storedEmails } from './delivery-harness';
import {
  type BlogRepository,
  deliveryHeaders,
  type HookedStack,
  pushPayload,
  startHookedStack,
} from './webhook-harness';

const REPOSITORY = 'octocat/blog';
const READERS = ['ann@example.com', 'bo@example.com'];

let hooked: HookedStack;
let repository: BlogRepository;
let stack: LocalStack;
let hook: string;
let base: string;

beforeAll(async () => {
  hooked = await startHookedStack(REPOSITORY, 'title: Hooked\nurl: https://hooked.example.com\n');
  ({ repository, stack, hook, base } = hooked);
  const { composition } = stack;
  await importSubscribers(
    READERS.map((email, index) => ({ line: index + 2, email })),
    {
      store: composition.subscribers,
      service: composition.subscriptions,
      clock: composition.clock,
      confirmed: true,
    },
  );
});

afterAll(async () => {
  await hooked?.stop();
});

describe('POST /hooks/github on the local stack', () => {
  it('takes a large, signed push over HTTP, answers 202 at once, and the stack sends the post once to each subscriber', async () => {
    // A busy push: many commits touching many files makes a payload well over the 16 KB the
    // form endpoints accept; GitHub sends up to 25 MB.
    const chores = Array.from({ length: 8 }, (_, commit) =>
      repository.commit(`Import photos ${commit}`, {
        write: Object.fromEntries(
          Array.from({ length: 25 }, (_, file) => [
            `assets/images/2026/11/holiday-album-${commit}/photo-${String(file).padStart(3, '0')}-caption.txt`,
            `photo ${commit}/${file}\n`,
          ]),
        ),
      }),
    );
    const post = repository.commit('Post', {
      write: { '_posts/2024-10-19-over-http.md': '---\ntitle: Over HTTP\n---\n\nDelivered by webhook.\n' },
    });
    const body = JSON.stringify(pushPayload({ fullName: REPOSITORY, before: base, commits: [...chores, post] }));
    expect(body.length).toBeGreaterThan(16 * 1024);

    const response = await fetch(hook, {
      method: 'POST',
      headers: deliveryHeaders(body, { secret: stack.composition.secrets.webhookSecret }),
      body,
    });
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ accepted: true, posts: ['_posts/2024-10-19-over-http.md'] });

    await stack.ingest.idle();
    await stack.sending.idle();
    const emails = await storedEmails(`http://127.0.0.1:${stack.ports.ses}`);
    expect(copiesByAddress(emails)).toEqual(new Map(READERS.map((address) => [address, 1])));
    expect(emails.every((email) => email.subject === 'Over HTTP')).toBe(true);
  });

  it('refuses a delivery signed with another secret, over HTTP', async () => {
    const post = repository.commit('Sneaky', {
      write: { '_posts/2024-10-19-sneaky.md': '---\ntitle: Sneaky\n---\n\nNo.\n' },
    });
    const body = JSON.stringify(pushPayload({ fullName: REPOSITORY, before: base, commits: [post] }));
    const response = await fetch(hook, {
      method: 'POST',
      headers: deliveryHeaders(body, { secret: 'not-the-stack-secret-0123456789' }),
      body,
    });
    expect(response.status).toBe(401);
    await stack.ingest.idle();
    expect(await stack.sending.issues.getIssue('2024-10-19-sneaky')).toBeUndefined();
  });

  it('refuses the local publish endpoint without the stack secret', async () => {
    const response = await fetch(`http://127.0.0.1:${stack.ports.http}/local/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        path: '_posts/2024-10-19-x.md',
        source: Buffer.from('---\ntitle: x\n---\n\nx\n').toString('base64'),
        kind: 'post',
      }),
    });
    expect(response.status).toBe(401);
    expect(await stack.sending.issues.getIssue('2024-10-19-x')).toBeUndefined();
  });
});
