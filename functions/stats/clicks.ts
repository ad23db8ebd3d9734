import { postScope } from './counted';
import type { CounterIncrement } from './counters';
import type { LinkStats, PostStats } from './snapshot';
import { HIDDEN_LINK } from './tracked-links';

/**
 * The click counters of a post (scope `post#<post id>`), with tracking `aggregate`:
 *
 * - `click#<n>`: every request to the redirect of link n (1…), `click#<n>.machine` those of them
 *   that said they were a machine (HEAD, a scanner's user agent: stats/scanners.ts);
 * - `hidden`, `hidden.machine`: the same for the link no person sees (index 0);
 * - `opens`: requests for the open pixel, with `opens: true`.
 *
 * None of them says who: the URL is the same in every copy of the post.
 */
const linkName = (index: number) => (index === HIDDEN_LINK ? 'hidden' : `click#${index}`);

/** What one request to the redirect of link `index` adds. */
export function clickIncrements(postId: string, index: number, machine: boolean): CounterIncrement[] {
  const scope = postScope(postId);
  const name = linkName(index);
  return machine
    ? [
        { scope, name },
        { scope, name: `${name}.machine` },
      ]
    : [{ scope, name }];
}

export function openIncrements(postId: string): CounterIncrement[] {
  return [{ scope: postScope(postId), name: 'opens' }];
}

/**
 * Human clicks on one link, estimated: every request, less those that said they were machines,
 * less the scanners that passed for browsers. Those show on the hidden link: a request to it
 * that did not say it was a machine is a scanner that did; a scanner opens every link of the
 * email it checks, so each such request stands for one disguised request to this link too.
 * Never below 0 (a scanner that opened only some links makes the subtraction too large).
 */
export function estimateHumanClicks(
  link: { total: number; machine: number },
  hidden: { total: number; machine: number },
): number {
  const disguisedScanners = Math.max(0, hidden.total - hidden.machine);
  return Math.max(0, link.total - link.machine - disguisedScanners);
}

/**
 * The `clicks` part of a post's PostStats from its counters (`CounterStore.read(postScope(id))`),
 * given the post's tracked links (`IssueStore.getLinks`: index 0 is the hidden link's target,
 * 1… the post's links). What `pushletter stats` calls.
 */
export function clickStats(counters: Record<string, number>, links: readonly string[]): PostStats['clicks'] {
  const read = (name: string) => counters[name] ?? 0;
  const hidden = { total: read('hidden'), machine: read('hidden.machine') };
  const stats: LinkStats[] = [];
  for (let index = 1; index < links.length; index++) {
    const link = { total: read(`click#${index}`), machine: read(`click#${index}.machine`) };
    stats.push({ url: links[index]!, ...link, estimatedHuman: estimateHumanClicks(link, hidden) });
  }
  return { links: stats, hiddenLinkFollows: hidden.total };
}
