import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { readTarget } from '../commons/config';
import { InvalidInputError } from '../commons/errors';
import { buildStatsSnapshot } from '../stats/build-snapshot';
import { renderReport } from '../stats/report';
import type { StatsSnapshot } from '../stats/snapshot';
import { parseArgs } from './args';
import { connect } from './stats-command';
import { writeWhole } from './write-whole';

const USAGE = 'report [--out report.html] [--aws]';

/** Where the figures come from: the running local stack, or the deployed one with `--aws`. */
export type SnapshotSource = (aws: boolean) => Promise<StatsSnapshot>;

export async function runReport(args: string[], source: SnapshotSource, out: Writable): Promise<number> {
  const { values, positionals } = parseArgs(args, { out: { type: 'string' }, aws: { type: 'boolean' } }, USAGE);
  if (positionals.length > 0)
    throw new InvalidInputError('CLI_USAGE', `unexpected "${positionals[0]}"\nusage: pushletter ${USAGE}`);
  const path = resolve(values.out ?? 'report.html');
  const snapshot = await source(Boolean(values.aws) || readTarget() === 'aws');
  const html = await renderReport(snapshot);
  await writeWhole([{ path, content: html }], 'REPORT_NOT_WRITTEN', { option: '--out', example: 'report.html' });
  const days = snapshot.list.length;
  out.write(
    `report: ${snapshot.posts.length} post${snapshot.posts.length === 1 ? '' : 's'}, ${days} day${days === 1 ? '' : 's'} of the list, ${(Buffer.byteLength(html) / 1024).toFixed(0)} KB\n` +
      `open ${pathToFileURL(path).href}\n`,
  );
  return 0;
}

/** The list's growth reads better over a season than over the 30 days the rates need. */
const LIST_DAYS = 90;

/** The stack's counters read back, as `stats` reads them, over LIST_DAYS of the list. */
export const countedSnapshot: SnapshotSource = async (aws) =>
  buildStatsSnapshot(await connect(aws), { days: LIST_DAYS });

export async function run(args: string[]): Promise<number> {
  return runReport(args, countedSnapshot, process.stdout);
}
