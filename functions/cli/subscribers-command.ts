import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Writable } from 'node:stream';
import { parseTopics, processEnvironment, readTarget } from '../commons/config';
import { InvalidInputError, PushletterError } from '../commons/errors';
import { logger } from '../commons/logger';
import { ENV } from '../contract/env';
import type { SendRateLimiter } from '../mail/mailer';
import { exportHeader, exportRow, parseImportCsv } from '../subscribers/csv';
import { type ImportReport, importSubscribers } from '../subscribers/import';
import type { CoreServices } from '../wiring/core-services';
import { parseArgs } from './args';
import { Progress } from './progress';

const USAGE = 'subscribers import <file.csv> [--confirmed] | export | count | forget <email>   [--aws]';

const HELP = `usage:
  pushletter subscribers import <file.csv> [--confirmed]
      Adds the addresses in a CSV file (UTF-8, a header row with an "email" column; a "name",
      an ISO "created" date, a "lang", a "topics" and a "frequency" column are kept, other
      columns are named as ignored). Topics are the offered ones (PUSHLETTER_TOPICS), separated
      by ; or |; an empty cell (or only separators) means every post. Frequency is "post" or
      "digest"; an empty cell means every post. Every row is checked; duplicates are merged; invalid rows are listed with
      their line numbers.
      Without --confirmed, new addresses are pending and get a confirmation email (at most
      one per address per 10 minutes). With --confirmed you vouch that they opted in: they
      become active at once and get no email. People who unsubscribed, bounced or
      complained are never re-subscribed by an import. Running the same file twice is safe.
  pushletter subscribers export
      Writes every subscriber as CSV to stdout: email, name, state, created, confirmed,
      unsubscribed, suppressed, consent_at, consent_source, lang, topics (separated by |),
      frequency (post or digest).
  pushletter subscribers count
      Prints how many subscribers are in each state.
  pushletter subscribers forget <email>
      Erases a person: deletes their subscriber record (address, consent record, history).
      Past delivery records keep only the opaque subscriber id.

where:
  By default the commands talk to the local stack started with \`npm start\` (or
  \`npx pushletter dev\`) in the same folder: DynamoDB on DYNAMODB_PORT (8000), the inbox on
  SES_PORT (8005), keys from PUSHLETTER_DATA_DIR (.data)/secrets.json.
  --aws (or PUSHLETTER_TARGET=aws) uses your default AWS credentials and region
  (AWS_PROFILE, AWS_REGION) and the deployed stack's names and settings, which its
  CliEnvironment output exports (see the README: eval it in your shell first);
  confirmation emails share the senders' rate (the account's SES rate, else
  PUSHLETTER_MAX_SEND_RATE per second) with any send running at the same time.`;

export interface CommandOutput {
  out: Writable;
  err: Writable;
}

async function connect(aws: boolean): Promise<CoreServices> {
  if (aws) {
    const { createLambdaServices } = await import('../wiring/lambda-services');
    return createLambdaServices(processEnvironment());
  }
  const { connectToLocalStack } = await import('../local/local-services');
  const ports = await connectToLocalStack();
  if (!(await ports.subscribers.idKeyMatchesStoredData())) {
    throw new PushletterError(
      'SECRETS_MISMATCH',
      'the keys in the secrets file do not match the subscribers already stored (they were made with another secrets.json); run this from the folder where the stack runs, or set PUSHLETTER_DATA_DIR',
    );
  }
  return ports;
}

/**
 * On AWS, confirmation emails take slots from the window the senders share, at the rate they
 * use (the account's SES rate, else PUSHLETTER_MAX_SEND_RATE), so an import during a send
 * never pushes the account over its rate. The local SES emulator has no rate: unlimited.
 */
async function importRateLimiter(ports: CoreServices, aws: boolean): Promise<SendRateLimiter | undefined> {
  if (!aws) return undefined;
  const [{ resolveSendRate }, { sharedRateLimiter }] = await Promise.all([
    import('../adapters/dynamodb/shared-rate-limiter'),
    import('../wiring/sending-services'),
  ]);
  return sharedRateLimiter(ports, await resolveSendRate(ports.ses, ports.settings.maxSendRate));
}

function numberText(value: number): string {
  return value.toLocaleString('en-US');
}

function plural(count: number, noun: string): string {
  return `${numberText(count)} ${noun}${count === 1 ? '' : 's'}`;
}

function listed<T>(items: T[], describe: (item: T) => string, limit = 50): string[] {
  const lines = items.slice(0, limit).map((item) => `  ${describe(item)}`);
  if (items.length > limit) lines.push(`  … and ${numberText(items.length - limit)} more`);
  return lines;
}

async function importCommand(
  file: string | undefined,
  confirmed: boolean,
  aws: boolean,
  output: CommandOutput,
): Promise<number> {
  if (file === undefined)
    throw new InvalidInputError('CLI_USAGE', `name the CSV file to import\nusage: pushletter ${USAGE}`);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InvalidInputError(
      'CSV_UNREADABLE',
      code === 'ENOENT'
        ? `${file} does not exist`
        : code === 'EISDIR'
          ? `${file} is a folder, not a CSV file`
          : `cannot read ${file} (${code ?? 'unknown error'})`,
    );
  }
  // Parse and validate before touching the store: a file with no email column changes nothing.
  // The topics the stack offers: the same setting (its CliEnvironment on AWS) the functions read.
  const parsed = parseImportCsv(bytes, basename(file), parseTopics(processEnvironment()[ENV.topics]));
  const ports = await connect(aws);
  const progress = new Progress('importing', parsed.rows.length, output.err as NodeJS.WriteStream);
  const report = await importSubscribers(parsed.rows, {
    store: ports.subscribers,
    service: ports.subscriptions,
    clock: ports.clock,
    confirmed,
    concurrency: aws ? 32 : 16,
    rateLimiter: confirmed ? undefined : await importRateLimiter(ports, aws),
    onProgress: (done) => progress.update(done),
  });
  if (parsed.rows.length > 0) progress.finish();
  printImportReport(output, file, parsed, report, confirmed);
  return report.failed.length > 0 ? 1 : 0;
}

function printImportReport(
  output: CommandOutput,
  file: string,
  parsed: ReturnType<typeof parseImportCsv>,
  report: ImportReport,
  confirmed: boolean,
): void {
  const lines = [
    `${basename(file)}: ${plural(parsed.rows.length + parsed.invalid.length + parsed.duplicates.length, 'row')}`,
    `  imported   ${numberText(report.imported)}${confirmed ? ' (active)' : ' (pending confirmation)'}`,
    `  updated    ${numberText(report.updated)}${confirmed ? ' (pending -> active)' : ''}`,
    `  unchanged  ${numberText(report.unchanged)}`,
    `  skipped    ${numberText(report.skipped.length)} (unsubscribed, bounced or complained; an import never re-subscribes them)`,
    `  invalid    ${numberText(parsed.invalid.length)}`,
    `  duplicates ${numberText(parsed.duplicates.length)} (merged into their first row)`,
  ];
  if (!confirmed) lines.push(`  confirmation emails sent ${numberText(report.confirmationsSent)}`);
  if (parsed.ignoredColumns.length > 0) {
    lines.push(
      `ignored columns: ${parsed.ignoredColumns.map((column) => JSON.stringify(column)).join(', ')} (kept: email, name, created, lang, topics, frequency)`,
    );
  }
  if (report.failed.length > 0) lines.push(`  failed     ${numberText(report.failed.length)}`);
  if (parsed.invalid.length > 0) {
    lines.push('invalid rows (fix them and import the file again; other rows are not imported twice):');
    lines.push(
      ...listed(
        parsed.invalid,
        (row) => `line ${row.line}: ${row.value === '' ? '(empty)' : JSON.stringify(row.value)}: ${row.reason}`,
      ),
    );
  }
  if (report.skipped.length > 0) {
    lines.push('skipped rows:');
    lines.push(...listed(report.skipped, (row) => `line ${row.line}: ${row.state}`));
  }
  if (report.failed.length > 0) {
    lines.push('failed rows (import the file again to retry them):');
    lines.push(...listed(report.failed, (row) => `line ${row.line}: ${row.reason}`));
  }
  output.out.write(`${lines.join('\n')}\n`);
}

async function exportCommand(aws: boolean, output: CommandOutput): Promise<number> {
  const ports = await connect(aws);
  output.out.write(exportHeader());
  let count = 0;
  for await (const page of ports.subscribers.scanAll()) {
    const text = page.map(exportRow).join('');
    // Respect back-pressure so exporting a million rows into a slow pipe stays in bounded memory.
    if (!output.out.write(text)) await new Promise((resolve) => output.out.once('drain', resolve));
    count += page.length;
  }
  output.err.write(`exported ${plural(count, 'subscriber')}\n`);
  return 0;
}

async function countCommand(aws: boolean, output: CommandOutput): Promise<number> {
  const ports = await connect(aws);
  const counts = await ports.subscribers.countByState();
  const total = Object.values(counts).reduce((sum, value) => sum + value, 0);
  const rows: [string, number][] = [...Object.entries(counts), ['total', total]];
  const width = Math.max(...rows.map(([, value]) => numberText(value).length));
  output.out.write(
    `${rows.map(([state, value]) => `${state.padEnd(13)}${numberText(value).padStart(width)}`).join('\n')}\n`,
  );
  return 0;
}

async function forgetCommand(email: string | undefined, aws: boolean, output: CommandOutput): Promise<number> {
  if (email === undefined)
    throw new InvalidInputError('CLI_USAGE', `name the address to erase\nusage: pushletter ${USAGE}`);
  const ports = await connect(aws);
  const id = ports.subscribers.idFor(email);
  if (await ports.subscriptions.forget(email)) {
    output.out.write(
      `erased ${email.trim()}: the subscriber record (address, consent record, history) is deleted; past delivery records keep only the opaque id ${id}\n`,
    );
  } else {
    output.out.write(`${email.trim()} is not stored; nothing to erase\n`);
  }
  return 0;
}

export async function run(
  args: string[],
  output: CommandOutput = { out: process.stdout, err: process.stderr },
): Promise<number> {
  const { values, positionals } = parseArgs(
    args,
    { confirmed: { type: 'boolean' }, aws: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    USAGE,
  );
  const [subcommand, ...rest] = positionals;
  if (values.help || subcommand === 'help') {
    output.out.write(`${HELP}\n`);
    return 0;
  }
  const aws = values.aws === true || readTarget() === 'aws';
  // The report is the output; per-row JSON log lines would bury it (and corrupt an export on
  // stdout). Warnings and errors still print.
  logger.setLogLevel('WARN');
  const expectArguments = (count: number) => {
    if (rest.length > count)
      throw new InvalidInputError('CLI_USAGE', `unexpected argument "${rest[count]}"\nusage: pushletter ${USAGE}`);
  };
  if (values.confirmed && subcommand !== 'import')
    throw new InvalidInputError('CLI_USAGE', `--confirmed only applies to import\nusage: pushletter ${USAGE}`);
  switch (subcommand) {
    case 'import':
      expectArguments(1);
      return importCommand(rest[0], values.confirmed === true, aws, output);
    case 'export':
      expectArguments(0);
      return exportCommand(aws, output);
    case 'count':
      expectArguments(0);
      return countCommand(aws, output);
    case 'forget':
      expectArguments(1);
      return forgetCommand(rest[0], aws, output);
    default:
      throw new InvalidInputError(
        'CLI_USAGE',
        `${subcommand === undefined ? 'name a subcommand' : `unknown subcommand "${subcommand}"`}\n${HELP}`,
      );
  }
}
