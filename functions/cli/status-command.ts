import { existsSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { processEnvironment, readTarget } from '../commons/config';
import { InvalidInputError, PushletterError } from '../commons/errors';
import { type IssueStatus, issueStatus } from '../delivery/delivery-status';
import type { IssueStore } from '../delivery/issues';
import { DEAD_LETTERED } from '../delivery/jobs';
import { parseArgs } from './args';
import { Progress } from './progress';

const USAGE = 'status <post id | post.md> [--follow | --no-follow] [--aws]';

export interface StatusOutput {
  out: Writable;
  err: NodeJS.WriteStream;
}

/** A post file names its post the way the renderer does; anything else is taken as an id. */
async function postIdOf(argument: string): Promise<string> {
  if (!existsSync(argument)) return argument;
  const { readPostName } = await import('../render/post');
  return readPostName(argument).id;
}

async function connect(aws: boolean): Promise<{ issues: IssueStore; resendAfterMs: number }> {
  const { DynamoIssueStore } = await import('../adapters/dynamodb/issue-store');
  const services = aws
    ? await (await import('../wiring/lambda-services')).createLambdaServices(processEnvironment())
    : await (await import('../local/local-services')).connectToLocalStack();
  return {
    issues: new DynamoIssueStore(services.dynamo, services.resources),
    resendAfterMs: services.settings.resendAfterSeconds * 1000,
  };
}

/** A time of day (UTC) an operator can compare with a clock, or minutes when within the hour. */
function when(at: Date, now: Date): string {
  const minutes = Math.ceil((at.getTime() - now.getTime()) / 60_000);
  if (minutes <= 0) return 'when their queue message next comes back';
  return `in ${minutes} min (${at.toISOString().slice(11, 16)} UTC)`;
}

/** Active readers the post was not for: never queued, claimed or recorded one by one. */
function notForRows({ notFor }: IssueStatus['issue']): [string, string][] {
  if (notFor === undefined) return [];
  const reasons = [
    ...(notFor.topics > 0 ? [`${notFor.topics} chose topics this post has none of`] : []),
    ...(notFor.digest > 0 ? [`${notFor.digest} read the weekly digest, which carries it`] : []),
  ];
  return [['not for them', `${notFor.topics + notFor.digest}  (${reasons.join('; ')})`]];
}

export function formatStatus(status: IssueStatus, now: Date = new Date()): string {
  const { issue, counts, resolving } = status;
  const rows: [string, string][] = [
    [
      'issue',
      `${issue.state}${issue.state === 'scheduled' ? ` for ${issue.sendAt}` : ''}${issue.skipReason ? ` (${issue.skipReason})` : ''}${issue.failReason ? ` (${issue.failReason})` : ''}`,
    ],
    ...notForRows(issue),
    ['queued', `${counts.queued}`],
    ...(counts.sending > 0 ? [['sending', `${counts.sending}`] as [string, string]] : []),
    ...(resolving !== undefined
      ? [
          [
            '',
            `${resolving.count} of them claimed by a sender that stopped: recorded sent when SES reports it took them, otherwise sent again ${when(resolving.by, now)}`,
          ] as [string, string],
        ]
      : []),
    ['sent', `${counts.sent}`],
    ['skipped', `${counts.skipped}`],
    [
      'failed',
      `${counts.failed}${status.failures.length > 0 ? `  (${status.failures.map((failure) => `${failure.reason} ×${failure.count}`).join(', ')})` : ''}`,
    ],
    [
      'unknown',
      `${counts.unknown}${counts.unknown > 0 ? '  (a sender stopped after claiming them before SES reported sends; SES may have sent them; never re-sent automatically: see "Follow a send" in the README)' : ''}`,
    ],
    ['bounced', `${counts.bounced}`],
    ['complained', `${counts.complained}`],
    ...(counts.transientBounces > 0 ? [['transient bounces', `${counts.transientBounces}`] as [string, string]] : []),
    ['send rate', status.sendRate === undefined ? '-' : `${status.sendRate.toFixed(1)}/s`],
  ];
  // One column for the values, however long the longest label present.
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  const lines = [
    `${issue.postId}: "${issue.subject}"`,
    ...rows.map(([label, value]) => `  ${label.padEnd(width)}${value}`),
  ];
  if (issue.state === 'failed')
    lines.push('  nothing was sent: fix the post, then `pushletter publish` it (on AWS: add it under a new file name)');
  if (status.failures.some((failure) => failure.reason === DEAD_LETTERED)) {
    lines.push(
      `  ${DEAD_LETTERED}: SES kept refusing their queue messages; redrive the send dead-letter queue to send them (locally: restart \`npm start\`)`,
    );
  }
  return lines.join('\n');
}

export async function runStatus(args: string[], output: StatusOutput): Promise<number> {
  const { values, positionals } = parseArgs(
    args,
    { follow: { type: 'boolean' }, 'no-follow': { type: 'boolean' }, aws: { type: 'boolean' } },
    USAGE,
  );
  const [argument] = positionals;
  if (argument === undefined || positionals.length > 1)
    throw new InvalidInputError('CLI_USAGE', `name one post (its id or its file)\nusage: pushletter ${USAGE}`);
  const postId = await postIdOf(argument);
  // Like the other commands: the local stack unless --aws or PUSHLETTER_TARGET=aws.
  const { issues, resendAfterMs } = await connect(Boolean(values.aws) || readTarget() === 'aws');
  const read = () => issueStatus(issues, postId, new Date(), undefined, resendAfterMs);
  let status = await read();
  if (status === undefined) {
    throw new PushletterError(
      'ISSUE_NOT_FOUND',
      `no issue for post "${postId}": it has not been published (run \`pushletter publish <post.md>\`), or check the id`,
    );
  }
  // Follow a send that is under way, on a terminal, unless told otherwise.
  const underWay = status.issue.state === 'dispatching' || status.issue.state === 'dispatched';
  const follow = values.follow ?? (!values['no-follow'] && Boolean(output.err.isTTY));
  if (follow && underWay && !status.done) {
    const total = () => status!.issue.enqueued;
    const finished = (current: IssueStatus) =>
      current.counts.sent + current.counts.skipped + current.counts.failed + current.counts.unknown;
    // Asked for by name, the progress shows even off a terminal.
    const progress = new Progress(`sending ${postId}`, total(), output.err, {
      linesOffTerminal: values.follow === true,
    });
    while (!status.done) {
      progress.setTotal(total());
      progress.update(finished(status), `${status.counts.failed} failed`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      status = (await read())!;
    }
    progress.update(finished(status));
    progress.finish();
  }
  output.out.write(`${formatStatus(status)}\n`);
  return 0;
}

export async function run(args: string[]): Promise<number> {
  return runStatus(args, { out: process.stdout, err: process.stderr });
}
