import { existsSync } from 'node:fs';
import { basename, sep } from 'node:path';
import type { Writable } from 'node:stream';
import { processEnvironment, readTarget } from '../commons/config';
import { InvalidInputError } from '../commons/errors';
import { buildStatsSnapshot, postRates, type StatsSources } from '../stats/build-snapshot';
import { clickStats } from '../stats/clicks';
import { postScope } from '../stats/counted';
import type { PostStats, StatsSnapshot } from '../stats/snapshot';
import { parseArgs } from './args';

const USAGE = 'stats [post id | post.md] [--json] [--aws]';

/** A post file names its post the way the renderer does; anything else is taken as an id. */
async function postIdOf(argument: string): Promise<string> {
  if (!existsSync(argument)) {
    // A post id has neither a folder nor an extension: this was meant as a file, and a typo there is not "not published".
    if (/\.(md|markdown)$/i.test(argument) || argument.includes('/') || argument.includes(sep))
      throw new InvalidInputError(
        'POST_FILE_NOT_FOUND',
        `${argument}: the file does not exist; check the path, or name the post by its id (such as ${basename(argument).replace(/\.(md|markdown)$/i, '')})`,
      );
    return argument;
  }
  const { readPostName } = await import('../render/post');
  return readPostName(argument).id;
}

export async function connect(aws: boolean): Promise<StatsSources> {
  const { DynamoIssueStore } = await import('../adapters/dynamodb/issue-store');
  const services = aws
    ? await (await import('../wiring/lambda-services')).createLambdaServices(processEnvironment())
    : await (await import('../local/local-services')).connectToLocalStack();
  const { settings } = services;
  const issues = new DynamoIssueStore(services.dynamo, services.resources);
  return {
    counters: services.counters,
    issues,
    subscribers: services.subscribers,
    site: { title: settings.siteTitle, language: settings.language, timezone: settings.timezone },
    tracking: settings.tracking,
    opens: settings.opens,
    // A post sent with tracking `aggregate` has its link list; others have no clicks to show.
    clicks: async (postId) => {
      const links = await issues.getLinks(postId);
      return links === undefined ? undefined : clickStats(await services.counters.read(postScope(postId)), links);
    },
  };
}

const percent = (fraction: number) => `${(fraction * 100).toFixed(2)}%`;
const limit = (fraction: number) => `${+(fraction * 100).toFixed(2)}%`;

/** Where a rate stands against the limit it is compared with. */
function standing(value: number, level: number): string {
  if (value >= level) return '  ABOVE';
  if (value >= level / 2) return '  near';
  return '';
}

/** Label and value columns, the labels padded to the longest. */
function table(rows: [string, string][], indent = '  '): string[] {
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  return rows.map(([label, value]) => `${indent}${label.padEnd(width)}${value}`);
}

function formatPost(post: PostStats, limits: StatsSnapshot['rates']['limits']): string[] {
  const { bounceRate, complaintRate } = postRates(post);
  const notFor = Object.entries(post.notFor).filter(([, count]) => count > 0);
  // The two rates line up after the longer of the two counts.
  const bounced = `${post.bounced.permanent} permanent, ${post.bounced.transient} transient`;
  const complained = `${post.complained}`.padEnd(bounced.length);
  const rows: [string, string][] = [
    [
      'recipients',
      `${post.recipients}${notFor.length > 0 ? `  (not for ${notFor.map(([reason, count]) => `${count} by ${reason}`).join(', ')})` : ''}`,
    ],
    ['sent', `${post.sent}`],
    ['delivered', `${post.delivered}`],
    [
      'bounced',
      `${bounced}   bounce rate ${percent(bounceRate)} (SES reviews at ${limit(limits.sesBounceReview)})${standing(bounceRate, limits.sesBounceReview)}`,
    ],
    [
      'complained',
      `${complained}   complaint rate ${percent(complaintRate)} (SES reviews at ${limit(limits.sesComplaintReview)}, Gmail's limit ${limit(limits.gmailSpam)})${standing(complaintRate, limits.sesComplaintReview)}`,
    ],
    ['rejected', `${post.rejected}`],
    ['delayed', `${post.delayed}`],
    ['unsubscribed', `${post.unsubscribed}`],
  ];
  if (post.clicks !== undefined) {
    const human = post.clicks.links.reduce((sum, link) => sum + link.estimatedHuman, 0);
    const total = post.clicks.links.reduce((sum, link) => sum + link.total, 0);
    rows.push(['clicks', `${total} (about ${human} by people)`]);
  }
  if (post.opens !== undefined) rows.push(['opens', `${post.opens} (approximate: mail proxies fetch images too)`]);
  return [
    `${post.postId}  "${post.title}"${post.sentAt ? `  sent ${post.sentAt.slice(0, 16).replace('T', ' ')} UTC` : ''}`,
    ...table(rows),
  ];
}

function formatList(list: StatsSnapshot['list']): string[] {
  const header = ['date', 'signups', 'confirmed', 'unsubscribed', 'bounced', 'complained', 'active'];
  // Days without a change are left out; the last day (today) always shows the active count.
  const days = list.filter(
    (day, index) =>
      index === list.length - 1 ||
      day.signups + day.confirmations + day.unsubscribes + day.bounces + day.complaints > 0,
  );
  const rows = days.map((day) => [
    day.date,
    ...[day.signups, day.confirmations, day.unsubscribes, day.bounces, day.complaints, day.active].map(String),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) =>
    `  ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[0]!) : cell.padStart(widths[column]!))).join('  ')}`;
  return [line(header), ...rows.map(line)];
}

/** What `stats` prints: the rates against the limits, each post's figures, the list per day. */
export function formatStats(snapshot: StatsSnapshot, timezone: string): string {
  const { rates } = snapshot;
  const { limits } = rates;
  const lines = [
    `${snapshot.site.title}: ${snapshot.posts.length === 1 ? 'one post' : `the last ${snapshot.posts.length} posts`} and the list (days in ${timezone})`,
    '',
    `Rates over the last 30 days (${rates.sent30d} emails sent, confirmation emails included)`,
    ...table([
      [
        'bounce rate',
        `${percent(rates.bounceRate30d)}   SES reviews an account at ${limit(limits.sesBounceReview)}${standing(rates.bounceRate30d, limits.sesBounceReview)}`,
      ],
      [
        'complaint rate',
        `${percent(rates.complaintRate30d)}   SES reviews at ${limit(limits.sesComplaintReview)}; Gmail's spam limit is ${limit(limits.gmailSpam)}${standing(rates.complaintRate30d, limits.sesComplaintReview)}`,
      ],
    ]),
  ];
  if (snapshot.posts.length === 0) lines.push('', 'No post has been sent yet.');
  for (const post of snapshot.posts) lines.push('', ...formatPost(post, limits));
  lines.push(
    '',
    `The list, last ${snapshot.list.length} days (days without a change left out)`,
    ...formatList(snapshot.list),
  );
  return lines.join('\n');
}

export async function runStats(args: string[], out: Writable): Promise<number> {
  const { values, positionals } = parseArgs(args, { json: { type: 'boolean' }, aws: { type: 'boolean' } }, USAGE);
  if (positionals.length > 1)
    throw new InvalidInputError('CLI_USAGE', `name at most one post (its id or its file)\nusage: pushletter ${USAGE}`);
  const postId = positionals[0] === undefined ? undefined : await postIdOf(positionals[0]);
  // Like the other commands: the local stack unless --aws or PUSHLETTER_TARGET=aws.
  const sources = await connect(Boolean(values.aws) || readTarget() === 'aws');
  const snapshot = await buildStatsSnapshot(sources, { postId });
  out.write(
    values.json ? `${JSON.stringify(snapshot, null, 2)}\n` : `${formatStats(snapshot, sources.site.timezone)}\n`,
  );
  return 0;
}

export async function run(args: string[]): Promise<number> {
  return runStats(args, process.stdout);
}
