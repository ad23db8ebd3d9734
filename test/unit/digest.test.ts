import { afterEach, describe, expect, it, vi } from 'vitest';
import { readDigestSchedule, readSettings, type Settings } from '../../functions/commons/config';
import { digestVariantFor, frequencyAt, parseDigestVariantKey } from '../../functions/delivery/digest-recipients';
import { dispatchIssue } from '../../functions/delivery/dispatcher';
import type { DigestContents } from '../../functions/delivery/issues';
import { digestWeekAt, nextDigestAt } from '../../functions/digest/digest-week';
import { type DigestOutcome, digestLanguage, runWeeklyDigest } from '../../functions/digest/weekly-digest';
import { startDigestTimer } from '../../functions/local/digest-timer';
import { HTML_SIZE_BUDGET } from '../../functions/render/clip';
import { renderDigestEmail } from '../../functions/render/digest-email';
import { EXCERPT_MAX_CHARACTERS, summarizePost } from '../../functions/render/excerpt';
import { parsePost } from '../../functions/render/post';
import type { PostSummary, SiteConfig } from '../../functions/render/types';
import type { Frequency } from '../../functions/subscribers/types';
import { digestStringsFor } from '../../templates/digest';
import { emailLanguageOf } from '../../templates/strings';
import { sendingWorld } from './delivery-world';

const site: SiteConfig = {
  url: 'https://blog.example.com',
  baseurl: '',
  title: 'Field Notes',
  permalink: 'date',
  data: {},
};

async function summaryOf(source: string, siteData: Record<string, unknown> = {}): Promise<PostSummary> {
  const post = await parsePost({
    path: '_posts/2026-12-01-post.md',
    source,
    site: { ...site, data: { ...site.data, ...siteData } },
  });
  return summarizePost(post);
}

describe("a post's excerpt, as the digest shows it", () => {
  it('is the first paragraph by default, with its inline markup', async () => {
    const summary = await summaryOf(
      '---\ntitle: Hello\n---\n\nThe **first** paragraph, with [a link](/about/).\n\nThe second paragraph.\n',
    );
    expect(summary.excerptHtml).toBe(
      '<p>The <strong>first</strong> paragraph, with <a href="https://blog.example.com/about/">a link</a>.</p>',
    );
    expect(summary.excerptText).toBe('The first paragraph, with a link (https://blog.example.com/about/).');
  });

  it("takes the front matter's excerpt over the post, as Markdown", async () => {
    const summary = await summaryOf('---\ntitle: Hello\nexcerpt: "Written *by hand*"\n---\n\nThe post itself.\n');
    expect(summary.excerptHtml).toBe('<p>Written <em>by hand</em></p>');
  });

  it("cuts at the post's excerpt_separator, else the site's, in a file with CRLF line ends", async () => {
    const post =
      '---\r\ntitle: Hello\r\nexcerpt_separator: <!--more-->\r\n---\r\n\r\nOne.\r\n\r\nTwo.\r\n<!--more-->\r\nThree.\r\n';
    expect((await summaryOf(post)).excerptText).toBe('One.\n\nTwo.');
    const siteWide = '---\r\ntitle: Hello\r\n---\r\n\r\nOne.\r\n\r\nTwo.\r\n<!--cut-->\r\nThree.\r\n';
    expect((await summaryOf(siteWide, { excerpt_separator: '<!--cut-->' })).excerptText).toBe('One.\n\nTwo.');
    // Jekyll's default separator is a blank line: with CRLF too, the first paragraph.
    expect((await summaryOf(siteWide)).excerptText).toBe('One.');
  });

  it('renders Liquid in the excerpt like the post', async () => {
    const summary = await summaryOf('---\ntitle: Liquid\n---\n\nOn {{ site.title }}: {{ page.title }}.\n\nMore.\n');
    expect(summary.excerptText).toBe('On Field Notes: Liquid.');
  });

  it('cuts a long Chinese paragraph at the end of a sentence', async () => {
    const sentence = '今天我们把集群从一点二七升级到一点二九，过程比预想的顺利。';
    const summary = await summaryOf(`---\ntitle: 升级\n---\n\n${sentence.repeat(20)}\n\n第二段。\n`);
    expect([...summary.excerptText].length).toBeLessThanOrEqual(EXCERPT_MAX_CHARACTERS);
    expect(summary.excerptText.endsWith('。')).toBe(true);
    expect(summary.excerptHtml).toBe(`<p>${summary.excerptText}</p>`);
    expect(summary.lang).toBe('zh-CN');
  });

  it('leaves images and headings to the card: the first image, the description instead of a heading', async () => {
    const summary = await summaryOf(
      '---\ntitle: Pictures\ndescription: What the pictures show.\n---\n\n## Before\n\n![A bridge](/img/bridge.png)\n\nText.\n',
    );
    expect(summary.image).toBe('https://blog.example.com/img/bridge.png');
    expect(summary.excerptText).toBe('What the pictures show.');
  });

  it('keeps only escaped text of an excerpt that holds more than prose', async () => {
    const summary = await summaryOf(
      '---\ntitle: Code\nexcerpt_separator: "<!--more-->"\n---\n\nRun <this>:\n\n```\nrm -rf <dir>\n```\n<!--more-->\n',
    );
    expect(summary.excerptHtml).not.toContain('<pre');
    expect(summary.excerptHtml).toContain('&lt;dir&gt;');
  });
});

describe("the digest's week", () => {
  const schedule = readDigestSchedule({ PUSHLETTER_DIGEST_DAY: 'mon', PUSHLETTER_TIMEZONE: 'Europe/Berlin' });

  it('is the latest digest time and the week before it, named by its ISO week', () => {
    const week = digestWeekAt(new Date('2026-12-03T12:00:00Z'), schedule);
    expect(week).toEqual({
      id: 'digest/2026-W49',
      since: new Date('2026-11-23T07:00:00Z'),
      until: new Date('2026-11-30T07:00:00Z'),
    });
    // At the digest time itself, the week just ended is due.
    expect(digestWeekAt(new Date('2026-12-07T07:00:00Z'), schedule).id).toBe('digest/2026-W50');
    expect(nextDigestAt(new Date('2026-12-03T12:00:00Z'), schedule)).toEqual(new Date('2026-12-07T07:00:00Z'));
  });

  it('follows the site clock across daylight saving, leaving no gap between weeks', () => {
    // Berlin moves to summer time on 29 March 2026: that week is an hour shorter.
    const week = digestWeekAt(new Date('2026-03-30T12:00:00Z'), schedule);
    expect(week.since).toEqual(new Date('2026-03-23T07:00:00Z'));
    expect(week.until).toEqual(new Date('2026-03-30T06:00:00Z'));
    expect(digestWeekAt(new Date('2026-04-06T12:00:00Z'), schedule).since).toEqual(week.until);
  });

  it('names a week by its ISO week-year near the new year', () => {
    const shanghai = readDigestSchedule({ PUSHLETTER_TIMEZONE: 'Asia/Shanghai' });
    expect(digestWeekAt(new Date('2027-01-04T01:00:00Z'), shanghai).id).toBe('digest/2027-W01');
    expect(digestWeekAt(new Date('2026-12-28T01:00:00Z'), shanghai).id).toBe('digest/2026-W53');
  });

  it('refuses a day, hour or time zone that is not one, naming the setting', () => {
    expect(() => readDigestSchedule({ PUSHLETTER_DIGEST_DAY: 'someday' })).toThrow(/PUSHLETTER_DIGEST_DAY/);
    expect(() => readDigestSchedule({ PUSHLETTER_DIGEST_HOUR: '24' })).toThrow(/PUSHLETTER_DIGEST_HOUR/);
    expect(() => readDigestSchedule({ PUSHLETTER_TIMEZONE: 'Mars/Olympus' })).toThrow(/PUSHLETTER_TIMEZONE/);
    expect(readSettings({}).digest).toEqual({ day: 'monday', hour: 8, timeZone: 'UTC' });
  });
});

describe("the local stack's digest timer", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs the digest at the digest time, then a week later, and not after it is stopped', async () => {
    vi.useFakeTimers({ now: new Date('2026-12-07T07:59:00Z') });
    const runs: string[] = [];
    const clock = { now: () => new Date() };
    const stop = startDigestTimer(
      async () => void runs.push(digestWeekAt(clock.now(), readSettings({}).digest).id),
      readSettings({}).digest,
      clock,
    );
    await vi.advanceTimersByTimeAsync(59_000);
    expect(runs).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(runs).toEqual(['digest/2026-W50']);
    await vi.advanceTimersByTimeAsync(7 * 86_400_000);
    expect(runs).toEqual(['digest/2026-W50', 'digest/2026-W51']);
    await stop();
    await vi.advanceTimersByTimeAsync(7 * 86_400_000);
    expect(runs).toHaveLength(2);
  });
});

describe('which digest variant a reader gets', () => {
  const digest: DigestContents = {
    posts: [
      { postId: 'a', categoriesAndTags: ['旅行'] },
      { postId: 'b', categoriesAndTags: ['rust'] },
      { postId: 'c', categoriesAndTags: ['随笔'] },
    ],
    offered: ['旅行', 'rust', '烹饪'],
    lang: 'zh-CN',
    variants: ['zh-CN:0.1.2', 'zh-CN:0.2', 'zh-CN:2', 'en:0.2'],
    since: '2026-11-30T00:00:00Z',
    until: '2026-12-07T00:00:00Z',
  };

  it("routes by the same rule as single posts, in the reader's language; readers of each post get none", () => {
    expect(digestVariantFor({ frequency: 'digest' }, digest)).toBe('zh-CN:0.1.2');
    expect(digestVariantFor({ frequency: 'digest', topics: ['旅行'] }, digest)).toBe('zh-CN:0.2');
    expect(digestVariantFor({ frequency: 'digest', topics: ['旅行'], lang: 'en-GB' }, digest)).toBe('en:0.2');
    // A language the digest does not speak reads the digest's own.
    expect(digestVariantFor({ frequency: 'digest', topics: ['旅行'], lang: 'fr' }, digest)).toBe('zh-CN:0.2');
    expect(digestVariantFor({ frequency: 'digest', topics: ['烹饪'] }, digest)).toBe('zh-CN:2');
    expect(digestVariantFor({ topics: ['旅行'] }, digest)).toBeUndefined();
    expect(digestVariantFor({ frequency: 'post' }, digest)).toBeUndefined();
  });

  it('gives a reader whose choices changed after the variants were compiled the smallest one with all their posts', () => {
    // rust: posts b and c, compiled for nobody; the whole week holds them.
    expect(digestVariantFor({ frequency: 'digest', topics: ['rust'] }, digest)).toBe('zh-CN:0.1.2');
    // In English only 0.2 was compiled: its posts, in the digest's language rather than fewer posts.
    expect(digestVariantFor({ frequency: 'digest', lang: 'en' }, digest)).toBe('zh-CN:0.1.2');
    expect(digestVariantFor({ frequency: 'digest', topics: ['烹饪'], lang: 'en' }, digest)).toBe('en:0.2');
  });

  it('sends nothing to a reader none of whose posts the week has', () => {
    const allTopical = { ...digest, posts: digest.posts.slice(0, 2), variants: ['zh-CN:0.1'] };
    expect(digestVariantFor({ frequency: 'digest', topics: ['烹饪'] }, allTopical)).toBeUndefined();
  });
});

describe('the digest email', () => {
  const longPost = (index: number): PostSummary => ({
    title: `Post ${index}: ${'a long title '.repeat(6)}`,
    date: `2026-12-0${index}T08:00:00Z`,
    url: `https://blog.example.com/2026/12/0${index}/post-${index}/`,
    lang: 'en',
    excerptHtml: `<p>${'A paragraph of a long excerpt with <a href="https://blog.example.com/x">links</a> and <strong>markup</strong>. '.repeat(4)}</p>`,
    excerptText: 'A paragraph of a long excerpt with links and markup. '.repeat(40),
    image: `https://blog.example.com/images/${index}.png`,
  });
  const input = (posts: PostSummary[]) => ({
    posts,
    since: new Date('2026-11-30T08:00:00Z'),
    until: new Date('2026-12-07T08:00:00Z'),
    site: { title: 'Field Notes', url: 'https://blog.example.com/' },
    lang: 'en',
    timeZone: 'UTC',
    postalAddress: '1 Example Street',
  });

  it('carries a week of seven long posts whole, under Gmail’s clipping size', async () => {
    const posts = Array.from({ length: 7 }, (_, index) => longPost(index + 1));
    const email = await renderDigestEmail(input(posts));
    expect(Buffer.byteLength(email.html)).toBeLessThan(HTML_SIZE_BUDGET);
    expect(email.shown).toBe(7);
    for (const post of posts) {
      expect(email.html).toContain(post.url);
      expect(email.text).toContain(post.title.trim());
    }
    expect(email.subject).toBe(`This week on Field Notes: ${posts[0]!.title.trim()} and 6 more`);
    expect(email.text).toMatch(/7 new posts, November 30\s–\sDecember 7, 2026/);
  });

  it('keeps a week of very many posts under the clipping size, linking to the blog for the rest', async () => {
    const posts = Array.from({ length: 60 }, (_, index) => longPost((index % 9) + 1));
    const email = await renderDigestEmail(input(posts));
    expect(Buffer.byteLength(email.html)).toBeLessThan(HTML_SIZE_BUDGET);
    expect(email.shown).toBeLessThan(60);
    expect(email.shown).toBeGreaterThan(10);
    expect(email.text).toContain(`${60 - email.shown} more posts this week are on the blog.`);
    // The unsubscribe link stays in, whatever was cut.
    expect(email.html).toContain('%%PUSHLETTER_UNSUBSCRIBE_URL%%');
  });

  it('speaks Chinese for a Chinese site', async () => {
    const email = await renderDigestEmail({
      ...input([{ ...longPost(1), title: '京都的秋天', lang: 'zh-CN' }]),
      lang: 'zh-CN',
    });
    expect(email.subject).toBe('「Field Notes」本周：京都的秋天');
    expect(email.text).toContain('2026年11月30日至2026年12月7日，共 1 篇新文章');
    // The footer speaks each reader's language; a reader of none gets the digest's.
    expect(email.text).toContain('%%PUSHLETTER_FOOTER_UNSUBSCRIBE%%: %%PUSHLETTER_UNSUBSCRIBE_URL%%');
    expect(email.text).toContain('%%PUSHLETTER_FOOTER_MANAGE%%: %%PUSHLETTER_PREFERENCES_URL%%');
    expect(email.footerWords.fallback).toBe('zh-CN');
    expect(email.footerWords.byLanguage.en!['%%PUSHLETTER_FOOTER_VIEW_ON_WEB%%']).toBe('Visit the blog');
  });
});

/**
 * Posts dispatched at their times, readers changing their frequency in between, digests run at
 * their times, all on the in-memory adapters: what each reader receives, one post at a time or
 * in a digest.
 */
function digestWorld(settings: Settings = readSettings({})) {
  const world = sendingWorld();
  const summary = (postId: string, sendAt: string): PostSummary => ({
    title: postId,
    date: sendAt,
    url: `https://blog.example.com/${postId}/`,
    lang: 'en',
    excerptHtml: `<p>${postId}</p>`,
    excerptText: postId,
  });
  const digests: string[] = [];
  return {
    world,
    digests,
    at(iso: string) {
      world.now.value = new Date(iso);
    },
    reader(email: string, frequency?: Frequency): string {
      const id = `id-${email}`;
      world.directory.put({
        id,
        email,
        state: 'active',
        createdAt: '2026-11-01T00:00:00.000Z',
        consent: { at: '2026-11-01T00:00:00.000Z', source: 'import' },
        ...(frequency === undefined ? {} : { frequency }),
      });
      return id;
    },
    async switchTo(id: string, frequency: Frequency): Promise<void> {
      expect(await world.directory.updatePreferences(id, { topics: [], frequency, lang: 'en' })).toBe(true);
    },
    /** A post sent at `sendAt` and dispatched now (by default then). */
    async post(postId: string, sendAt: string, dispatchedAt = sendAt): Promise<void> {
      await world.issues.createIssue(
        {
          postId,
          title: postId,
          subject: postId,
          state: 'dispatching',
          sendAt,
          message: world.message,
          summary: summary(postId, sendAt),
          categoriesAndTags: [],
        },
        new Date(sendAt),
      );
      world.now.value = new Date(dispatchedAt);
      await dispatchIssue(world.dispatch, postId);
    },
    /** The digest due at `iso` under `schedule`, dispatched when it starts. */
    async digest(iso: string, schedule: Partial<Settings['digest']> = {}): Promise<DigestOutcome> {
      world.now.value = new Date(iso);
      const outcome = await runWeeklyDigest({
        settings: { ...settings, digest: { ...settings.digest, ...schedule } },
        issues: world.issues,
        subscribers: world.directory,
        dispatchQueue: world.dispatch.dispatchQueue,
        clock: world.clock,
      });
      if (outcome.status === 'started') {
        digests.push(outcome.digestId);
        await dispatchIssue(world.dispatch, outcome.digestId);
      }
      return outcome;
    },
    /** The posts a reader got: one by one, and in each digest. */
    async received(id: string): Promise<{ single: string[]; digests: Record<string, string[]> }> {
      const single: string[] = [];
      const inDigests: Record<string, string[]> = {};
      for (const job of world.sendJobs) {
        if (!job.subscriberIds.includes(id)) continue;
        if (job.variant === undefined) {
          single.push(job.postId);
          continue;
        }
        const posts = (await world.issues.getIssue(job.postId))!.digest!.posts;
        inDigests[job.postId] = parseDigestVariantKey(job.variant).positions.map((position) => posts[position]!.postId);
      }
      return { single, digests: inDigests };
    },
  };
}

describe('the weekly digest run', () => {
  // Monday 08:00 UTC: the digest of 7 December carries posts sent from 30 November 08:00.
  const DUE = '2026-12-07T08:00:00Z';

  it('creates and dispatches nothing when no reader takes the digest, and says so again when run again', async () => {
    const run = digestWorld();
    run.reader('each@example.com', 'post');
    run.reader('default@example.com');
    await run.post('tuesday', '2026-12-01T10:00:00.000Z');
    await run.post('thursday', '2026-12-03T10:00:00.000Z');
    const dispatchesBefore = run.world.dispatchJobs.length;
    expect(await run.digest(DUE)).toEqual({ status: 'no-readers', digestId: 'digest/2026-W50', posts: 2 });
    expect(await run.world.issues.getIssue('digest/2026-W50')).toBeUndefined();
    expect(run.world.dispatchJobs).toHaveLength(dispatchesBefore);
    expect(await run.digest('2026-12-08T12:00:00Z')).toEqual({
      status: 'no-readers',
      digestId: 'digest/2026-W50',
      posts: 2,
    });
    expect(run.digests).toEqual([]);
  });

  it('gives a reader who left the digest mid-week the earlier posts in it and the later ones alone, each once', async () => {
    const run = digestWorld();
    const leaver = run.reader('leaver@example.com', 'digest');
    const joiner = run.reader('joiner@example.com', 'post');
    const steady = run.reader('steady@example.com', 'digest');
    await run.post('monday', '2026-11-30T10:00:00.000Z');
    run.at('2026-12-01T09:00:00Z');
    await run.switchTo(leaver, 'post');
    await run.switchTo(joiner, 'digest');
    // Sent before the switch, but the dispatch reached these readers after it (a long list).
    await run.post('tuesday', '2026-12-01T08:59:00.000Z', '2026-12-01T09:05:00Z');
    await run.post('thursday', '2026-12-03T10:00:00.000Z');
    expect(await run.digest(DUE)).toMatchObject({ status: 'started', readers: 3, posts: 3 });

    expect(await run.received(leaver)).toEqual({
      single: ['thursday'],
      digests: { 'digest/2026-W50': ['monday', 'tuesday'] },
    });
    expect(await run.received(joiner)).toEqual({
      single: ['monday', 'tuesday'],
      digests: { 'digest/2026-W50': ['thursday'] },
    });
    expect(await run.received(steady)).toEqual({
      single: [],
      digests: { 'digest/2026-W50': ['monday', 'tuesday', 'thursday'] },
    });
    // Saving the same frequency again is no switch: the time of the last one stays.
    const changedAt = (await run.world.directory.get(joiner))?.frequencyChangedAt;
    run.at('2026-12-05T00:00:00Z');
    await run.switchTo(joiner, 'digest');
    expect((await run.world.directory.get(joiner))?.frequencyChangedAt).toBe(changedAt);
  });

  it('puts every post in exactly one digest when the digest day and hour change between digests', async () => {
    const run = digestWorld();
    const reader = run.reader('weekly@example.com', 'digest');
    const sent = [
      '2026-12-02T10:00:00.000Z',
      '2026-12-07T09:00:00.000Z', // Monday after the digest
      '2026-12-08T10:00:00.000Z',
      '2026-12-09T07:00:00.000Z', // Wednesday before the new digest time
      '2026-12-09T20:00:00.000Z',
      '2026-12-13T10:00:00.000Z',
      '2026-12-14T07:59:00.000Z',
      '2026-12-16T09:00:00.000Z',
      '2026-12-21T10:00:00.000Z',
      '2026-12-27T21:00:00.000Z',
    ];
    for (const sendAt of sent) await run.post(`post-${sendAt.slice(0, 13)}`, sendAt);

    expect(await run.digest(DUE)).toMatchObject({ status: 'started', digestId: 'digest/2026-W50' });
    // Moved later in the week that had its digest: no second one that week.
    expect(await run.digest('2026-12-09T08:00:00Z', { day: 'wednesday' })).toMatchObject({
      status: 'exists',
      digestId: 'digest/2026-W50',
    });
    expect(await run.digest('2026-12-16T08:00:00Z', { day: 'wednesday' })).toMatchObject({
      status: 'started',
      digestId: 'digest/2026-W51',
    });
    // Moved earlier: the Monday due now is before the last digest ended; it ran already.
    expect(await run.digest('2026-12-17T12:00:00Z', { day: 'monday' })).toMatchObject({
      status: 'exists',
      digestId: 'digest/2026-W51',
    });
    expect(await run.digest('2026-12-21T08:00:00Z', { day: 'monday' })).toMatchObject({
      status: 'started',
      digestId: 'digest/2026-W52',
    });
    // Sunday at 22:00: the Sunday of the same ISO week has had its digest; the next one carries it all.
    const sunday = { day: 'sunday', hour: 22 } as const;
    expect(await run.digest('2026-12-27T22:00:00Z', sunday)).toMatchObject({
      status: 'exists',
      digestId: 'digest/2026-W52',
    });
    expect(await run.digest('2027-01-03T22:00:00Z', sunday)).toMatchObject({
      status: 'started',
      digestId: 'digest/2026-W53',
    });

    const { single, digests } = await run.received(reader);
    expect(single).toEqual([]);
    const id = (iso: string) => `post-${iso.slice(0, 13)}`;
    expect(digests).toEqual({
      'digest/2026-W50': [id(sent[0]!)],
      'digest/2026-W51': sent.slice(1, 7).map(id),
      'digest/2026-W52': [id(sent[7]!)],
      'digest/2026-W53': sent.slice(8).map(id),
    });
    const issue = await run.world.issues.getIssue('digest/2026-W51');
    expect(issue?.digest).toMatchObject({ since: '2026-12-07T08:00:00.000Z', until: '2026-12-16T08:00:00.000Z' });
  });
});

describe("a reader's frequency when a post was sent", () => {
  it('is the one before their last change for a post sent before it', () => {
    const switched = { frequency: 'post' as const, frequencyChangedAt: '2026-12-02T00:00:00.000Z' };
    expect(frequencyAt(switched, '2026-12-01T23:59:59Z')).toBe('digest');
    expect(frequencyAt(switched, '2026-12-02T00:00:00Z')).toBe('post');
    expect(frequencyAt({ frequency: 'digest' }, '2020-01-01T00:00:00Z')).toBe('digest');
    expect(frequencyAt({}, undefined)).toBe('post');
  });
});

describe("the digest's language", () => {
  it('reads every way a Chinese blog writes its language, zh_CN included, as Chinese', () => {
    for (const tag of ['zh', 'zh-CN', 'zh_CN', 'zh-Hans', 'ZH-tw']) {
      expect(digestLanguage([{ lang: tag }], undefined), tag).toBe('zh-CN');
      expect(digestLanguage([], tag), tag).toBe('zh-CN');
      expect(digestStringsFor(tag), tag).toBe(digestStringsFor('zh-CN'));
      expect(emailLanguageOf(tag), tag).toBe('zh-CN');
    }
    expect(digestLanguage([{ lang: 'en_US' }, { lang: 'zh_CN' }, { lang: 'zh_CN' }], undefined)).toBe('zh-CN');
    expect(digestStringsFor('en_GB')).toBe(digestStringsFor('en'));
    expect(emailLanguageOf('fr')).toBe('en');
  });
});
