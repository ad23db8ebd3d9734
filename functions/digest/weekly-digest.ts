import { readerLanguage } from '../../templates/reader-strings';
import type { Clock } from '../commons/clock';
import type { Settings } from '../commons/config';
import { logger } from '../commons/logger';
import type { Queue } from '../commons/queue';
import type { DispatchJob } from '../contract/messages';
import { bucketCountFor } from '../delivery/claims';
import {
  type DigestLanguage,
  digestPostsFor,
  digestVariantKey,
  parseDigestVariantKey,
  readerDigestLanguage,
} from '../delivery/digest-recipients';
import type { DigestContents, DigestRun, IssueState, IssueStore, PublishedPost } from '../delivery/issues';
import { compileIssueMessage } from '../publishing/ingest-post';
import { type DigestEmail, renderDigestEmail } from '../render/digest-email';
import type { SubscriberDirectory } from '../subscribers/types';
import { type DigestWeek, digestWeekAt } from './digest-week';

/**
 * The weekly digest: the posts sent since the last digest become one issue (`digest/2026-W49`)
 * whose readers are the active subscribers who took the digest when those posts were sent and
 * for whom at least one of them is meant. Readers choose different topics and languages, so the
 * issue holds one compiled email per distinct set of posts and language among them (its
 * variants, delivery/digest-recipients.ts), compiled here, before the issue exists. Creating the
 * issue is the idempotency point, as for a post: a second run in the same week (the schedule
 * firing twice, `pushletter digest --send`, a retry after a crash) finds it and at most hands a
 * dispatch that stopped back to the dispatcher. The dispatcher then pages readers like a
 * post's, each with their variant, and the delivery worker claims each reader in the digest's
 * ledgers: one copy per reader per week, whichever variant.
 *
 * Each run that settles a window (a digest sent, or nothing to send) is recorded
 * (`IssueStore.recordDigestRun`), and the next window starts where it ended: moving the digest
 * day or hour neither drops nor repeats a post. The id stays the ISO week, so a reader gets at
 * most one digest a week: when the day moves later within a week that had its digest, that week
 * has no second one, and its later posts go in the next week's.
 */
export interface DigestDependencies {
  settings: Settings;
  issues: Pick<
    IssueStore,
    | 'getIssue'
    | 'createIssue'
    | 'putVariant'
    | 'publishedBetween'
    | 'fixClaimBuckets'
    | 'lastDigestRun'
    | 'recordDigestRun'
  >;
  subscribers: Pick<SubscriberDirectory, 'pageActive'>;
  dispatchQueue: Queue<DispatchJob>;
  clock: Clock;
}

export type DigestOutcome =
  | { status: 'started'; digestId: string; posts: number; readers: number; variants: number; subject: string }
  | { status: 'exists'; digestId: string; state: IssueState; resumed: boolean }
  | { status: 'empty'; digestId: string }
  /** The window has posts, but none is for any reader who took the digest when it was sent. */
  | { status: 'no-readers'; digestId: string; posts: number };

const PAGE_SIZE = 500;

/**
 * The digest's own language, for readers who have none of ours: the setting, else the language
 * most of its posts are in.
 */
export function digestLanguage(posts: { lang: string }[], language: string | undefined): DigestLanguage {
  const chinese = (lang: string) => readerLanguage(lang) === 'zh-CN';
  if (language !== undefined) return chinese(language) ? 'zh-CN' : 'en';
  const inChinese = posts.filter((post) => chinese(post.lang)).length;
  return inChinese * 2 > posts.length ? 'zh-CN' : 'en';
}

/** The digest of these posts in `lang`, as a variant shows it (preview and send render alike). */
export function renderDigestOf(
  posts: PublishedPost[],
  week: Pick<DigestWeek, 'since' | 'until'>,
  settings: DigestDependencies['settings'],
  lang: DigestLanguage,
): Promise<DigestEmail> {
  return renderDigestEmail({
    posts: posts.map((post) => post.summary),
    since: week.since,
    until: week.until,
    site: { title: settings.siteTitle, url: `${settings.siteUrl}/` },
    lang,
    timeZone: settings.digest.timeZone,
    postalAddress: settings.postalAddress,
  });
}

/** The distinct variants (posts and language) the digest's readers get now, and how many readers there are. */
async function variantsAmongReaders(
  subscribers: DigestDependencies['subscribers'],
  digest: Pick<DigestContents, 'posts' | 'offered' | 'lang'>,
): Promise<{ variants: Set<string>; readers: number }> {
  const variants = new Set<string>();
  let readers = 0;
  let cursor: string | undefined;
  do {
    const page = await subscribers.pageActive(cursor, PAGE_SIZE);
    for (const subscriber of page.subscribers) {
      const positions = digestPostsFor(subscriber, digest);
      if (positions.length === 0) continue;
      readers++;
      variants.add(digestVariantKey(readerDigestLanguage(subscriber.lang, digest.lang), positions));
    }
    cursor = page.cursor;
  } while (cursor !== undefined);
  return { variants, readers };
}

/** Builds and starts the digest due at `at` (default now); see the module comment. */
export async function runWeeklyDigest(ports: DigestDependencies, at?: Date): Promise<DigestOutcome> {
  const { settings, issues, clock } = ports;
  const slot = digestWeekAt(at ?? clock.now(), settings.digest);
  const digestId = slot.id;
  const last = await issues.lastDigestRun();
  // The digest due now ran already: this one, or a later one before the day moved earlier.
  if (last !== undefined && Date.parse(last.until) >= slot.until.getTime()) return ranBefore(ports, last);
  const known = await issues.getIssue(digestId);
  if (known !== undefined) {
    // This week's digest, sent at an earlier slot of the week or by a run that died before recording itself.
    if (known.digest !== undefined)
      await issues.recordDigestRun({ digestId, until: known.digest.until, posts: known.digest.posts.length });
    return existing(ports, digestId, known.state);
  }
  // From where the last digest ended; the first digest ever covers the week before its slot.
  const week = { since: last === undefined ? slot.since : new Date(last.until), until: slot.until };
  const window = { since: week.since.toISOString(), until: week.until.toISOString() };

  const posts = await issues.publishedBetween(week.since, week.until);
  if (posts.length === 0) {
    logger.info('digest.empty', { digestId, ...window });
    await issues.recordDigestRun({ digestId, until: window.until, posts: 0 });
    return { status: 'empty', digestId };
  }
  const routing = {
    posts: posts.map(({ postId, categoriesAndTags, sendAt }) => ({ postId, categoriesAndTags, sendAt })),
    offered: settings.topics.map((topic) => topic.name),
    lang: digestLanguage(
      posts.map((post) => post.summary),
      settings.language,
    ),
  };
  const { variants, readers } = await variantsAmongReaders(ports.subscribers, routing);
  if (readers === 0) {
    // Nothing to render or dispatch: nobody's digest holds any of these posts.
    logger.info('digest.no_readers', { digestId, posts: posts.length, ...window });
    await issues.recordDigestRun({ digestId, until: window.until, posts: posts.length });
    return { status: 'no-readers', digestId, posts: posts.length };
  }
  // The whole week in the digest's language comes first: the variant of readers who chose no
  // topics, and the fallback of a reader whose choices change during the dispatch.
  const whole = digestVariantKey(
    routing.lang,
    posts.map((_post, position) => position),
  );
  const keys = [whole, ...[...variants].filter((key) => key !== whole)];
  let subject = '';
  for (const key of keys) {
    const { lang, positions } = parseDigestVariantKey(key);
    const chosen = positions.map((position) => posts[position]!);
    const email = await renderDigestOf(chosen, week, settings, lang);
    for (const warning of email.warnings)
      logger.warn('digest.render_warning', { digestId, variant: key, code: warning.code, detail: warning.message });
    if (key === whole) subject = email.subject;
    await issues.putVariant(digestId, key, compileIssueMessage(email, settings));
  }

  const digest: DigestContents = { ...routing, variants: keys, ...window };
  const now = clock.now();
  const created = await issues.createIssue(
    {
      postId: digestId,
      title: subject,
      subject,
      state: 'dispatching',
      sendAt: now.toISOString(),
      source: 'digest',
      digest,
    },
    now,
  );
  if (created === 'exists') return existing(ports, digestId, 'dispatching');
  await issues.recordDigestRun({ digestId, until: window.until, posts: posts.length });
  // Buckets sized for the digest's readers, not the whole list: its claims stay as dense as a post's.
  await issues.fixClaimBuckets(digestId, bucketCountFor(readers));
  await ports.dispatchQueue.send([{ postId: digestId }]);
  logger.info('digest.started', { digestId, posts: posts.length, readers, variants: keys.length });
  return { status: 'started', digestId, posts: posts.length, readers, variants: keys.length, subject };
}

/** The run that settled the window of the digest due now, answered again. */
async function ranBefore(ports: DigestDependencies, last: DigestRun): Promise<DigestOutcome> {
  const issue = await ports.issues.getIssue(last.digestId);
  if (issue !== undefined) return existing(ports, last.digestId, issue.state);
  logger.info('digest.ran_before', { digestId: last.digestId, posts: last.posts });
  return last.posts === 0
    ? { status: 'empty', digestId: last.digestId }
    : { status: 'no-readers', digestId: last.digestId, posts: last.posts };
}

/**
 * A digest already recorded. One still dispatching (a run that died after creating it, or a
 * dispatch that stopped) is handed to the dispatcher again: it resumes from its checkpoint,
 * and the claims keep anyone from a second copy.
 */
async function existing(ports: DigestDependencies, digestId: string, state: IssueState): Promise<DigestOutcome> {
  const resumed = state === 'dispatching';
  if (resumed) await ports.dispatchQueue.send([{ postId: digestId }]);
  logger.info('digest.exists', { digestId, state, resumed });
  return { status: 'exists', digestId, state, resumed };
}
