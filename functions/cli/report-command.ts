import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { readTarget } from '../commons/config';
import { errorMessage, InvalidInputError, PushletterError } from '../commons/errors';
import { buildStatsSnapshot } from '../stats/build-snapshot';
import { renderReport } from '../stats/report';
import type { StatsSnapshot } from '../stats/snapshot';
import { parseArgs } from './args';
import { connect } from './stats-command';

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
  await writeWhole(path, html);
  const days = snapshot.list.length;
  out.write(
    `report: ${snapshot.posts.length} post${snapshot.posts.length === 1 ? '' : 's'}, ${days} day${days === 1 ? '' : 's'} of the list, ${(Buffer.byteLength(html) / 1024).toFixed(0)} KB\n` +
      `open ${pathToFileURL(path).href}\n`,
  );
  return 0;
}

/** The file appears whole or not at all: written beside its place, then renamed onto it. */
async function writeWhole(path: string, content: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, content);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? `the folder ${dirname(path)} does not exist: create it or pass another --out`
        : code === 'EISDIR'
          ? `${path} is a folder: pass a file name, such as --out ${join(path, 'report.html')}`
          : errorMessage(error);
    throw new PushletterError('REPORT_NOT_WRITTEN', `cannot write ${path}: ${reason}`, { cause: error });
  }
}

/** The list's growth reads better over a season than over the 30 days the rates need. */
const LIST_DAYS = 90;

/** The stack's counters read back, as `stats` reads them, over LIST_DAYS of the list. */
export const countedSnapshot: SnapshotSource = async (aws) =>
  buildStatsSnapshot(await connect(aws), { days: LIST_DAYS });

export async function run(args: string[]): Promise<number> {
  return runReport(args, countedSnapshot, process.stdout);
}
