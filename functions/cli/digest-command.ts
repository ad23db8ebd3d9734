import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Writable } from 'node:stream';
import { blogTimezone, readEnv, readSettings, type Settings } from '../commons/config';
import { errorMessage, InvalidInputError, PushletterError } from '../commons/errors';
import { ENV } from '../contract/env';
import type { PublishedPost } from '../delivery/issues';
import { isoWeek } from '../digest/digest-week';
import { type DigestOutcome, digestLanguage, renderDigestOf } from '../digest/weekly-digest';
import { personalise, valuesForLanguage } from '../mail/message';
import { categoriesAndTagsOf, compileIssueMessage } from '../publishing/ingest-post';
import { calendarParts, daysInMonth, parseJekyllDate } from '../render/dates';
import { fillEmail } from '../render/email';
import { summarizePost } from '../render/excerpt';
import { gatherIncludesFromFolder } from '../render/includes';
import { parsePost } from '../render/post';
import { loadSite } from '../render/site';
import { sampleLinks } from '../subscribers/tokens';
import { parseArgs } from './args';
import { Progress } from './progress';
import { markdownFilesIn, PREVIEW_RECIPIENT } from './render-command';
import { writeWhole } from './write-whole';

const USAGE = 'digest [--site <dir>] [--since <date>] [--out <dir>] | digest --send';

const HELP = `usage: pushletter ${USAGE}

Previews the weekly digest of a blog's posts, in --out (default ./out):
  digest-<week>.html   the HTML part, as a reader who chose no topics gets it
  digest-<week>.txt    the plain-text part
  digest-<week>.eml    the complete message to ${PREVIEW_RECIPIENT}, with every header a real send has
It holds the posts of --site (default: this folder) dated from --since (default: 7 days ago) until now.

--send sends the digest due now through the running local stack (\`pushletter dev\`): the week
up to the latest digest time (PUSHLETTER_DIGEST_DAY, PUSHLETTER_DIGEST_HOUR, PUSHLETTER_TIMEZONE).
A week already sent sends nobody a second copy.`;

const DAY_MS = 86_400_000;
const kilobytes = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

export interface DigestIo {
  out: Writable;
  err: NodeJS.WriteStream;
  /** Tests pass settings and a time; the CLI reads the environment and the clock. */
  settings?: Settings;
  now?: Date;
}

export async function run(
  args: string[],
  io: DigestIo = { out: process.stdout, err: process.stderr },
): Promise<number> {
  const { values, positionals } = parseArgs(
    args,
    {
      site: { type: 'string' },
      since: { type: 'string' },
      out: { type: 'string' },
      send: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    USAGE,
  );
  if (values.help) {
    io.out.write(`${HELP}\n`);
    return 0;
  }
  if (positionals.length > 0)
    throw new InvalidInputError(
      'CLI_USAGE',
      `digest takes no file names; name the blog with --site\nusage: pushletter ${USAGE}`,
    );
  if (values.send) {
    if (values.site !== undefined || values.since !== undefined || values.out !== undefined)
      throw new InvalidInputError(
        'CLI_USAGE',
        `--send sends the week the running stack's posts make up; --site, --since and --out are for a preview\nusage: pushletter ${USAGE}`,
      );
    return sendNow(io);
  }
  return preview(values, io);
}

async function preview(values: { site?: string; since?: string; out?: string }, io: DigestIo): Promise<number> {
  const settings = io.settings ?? readSettings();
  const now = io.now ?? new Date();
  const root = values.site ?? '.';
  const postsFolder = join(root, '_posts');
  if (!existsSync(postsFolder))
    throw new InvalidInputError(
      'SITE_NOT_FOUND',
      `${root}: no _posts folder; run this in the blog's folder or name it with --site <dir with _config.yml>`,
    );
  const site = await loadSite(existsSync(join(root, '_config.yml')) ? root : undefined, settings);
  // The blog's clock, unless PUSHLETTER_TIMEZONE names another, as on the local stack.
  const timeZone = blogTimezone(settings, site.timezone);
  const since =
    values.since === undefined ? new Date(now.getTime() - 7 * DAY_MS) : parseJekyllDate(values.since, timeZone);
  if (since === undefined || Number.isNaN(since.getTime())) {
    const day = /^(\d{4})-(\d{1,2})-(\d{1,2})\b/.exec(values.since ?? '');
    const month = Number(day?.[2]);
    const why =
      day && month >= 1 && month <= 12 && Number(day[3]) > daysInMonth(Number(day[1]), month)
        ? `${new Intl.DateTimeFormat('en', { month: 'long', timeZone: 'UTC' }).format(Date.UTC(2000, month - 1))} ${day[1]} has ${daysInMonth(Number(day[1]), month)} days`
        : 'write it as YYYY-MM-DD';
    throw new InvalidInputError('CLI_USAGE', `--since ${values.since}: not a date; ${why}`);
  }

  const files = markdownFilesIn(postsFolder);
  const progress = files.length > 1 ? new Progress('digest', files.length, io.err) : undefined;
  const posts: PublishedPost[] = [];
  let skipped = 0;
  const failed: string[] = [];
  for (const file of files) {
    try {
      const source = await readFile(file);
      const includes = (await gatherIncludesFromFolder(source.toString('utf8'), root)).files;
      const post = await parsePost({ path: file, source, site: { ...site, root }, includes, now });
      const inWeek = post.date >= since && post.date <= now;
      if (inWeek && post.skipReason !== undefined) skipped++;
      else if (inWeek)
        posts.push({
          postId: post.id,
          sendAt: post.date.toISOString(),
          summary: summarizePost(post),
          categoriesAndTags: categoriesAndTagsOf(post),
        });
    } catch (error) {
      failed.push(`${relative('.', file)}: ${errorMessage(error).split('\n')[0]}`);
    }
    progress?.tick(1);
  }
  progress?.finish();
  for (const reason of failed) io.out.write(`✗ ${reason}\n`);
  const local = calendarParts(since, timeZone);
  const sinceDay = `${local.year}-${String(local.month).padStart(2, '0')}-${String(local.day).padStart(2, '0')}`;
  if (posts.length === 0) {
    io.out.write(`no posts dated from ${sinceDay} until now in ${postsFolder}: that week's digest would not be sent\n`);
    return failed.length > 0 ? 1 : 0;
  }
  posts.sort((a, b) => a.sendAt.localeCompare(b.sendAt));

  const siteSettings = {
    ...settings,
    siteTitle: site.title || settings.siteTitle,
    siteUrl: `${site.url}${site.baseurl}`,
    digest: { ...settings.digest, timeZone },
  };
  const lang = digestLanguage(
    posts.map((post) => post.summary),
    settings.language ?? site.lang,
  );
  const email = await renderDigestOf(posts, { since, until: now }, siteSettings, lang);
  // Links that answer (a page saying they came from a preview) and the footer in the digest's language.
  const filled = { ...valuesForLanguage(email.footerWords, undefined), ...sampleLinks(settings.publicUrl, 'preview') };
  const eml = personalise(compileIssueMessage(email, siteSettings), { to: PREVIEW_RECIPIENT, values: filled });
  const preview = fillEmail(email, filled);
  const outDir = values.out ?? 'out';
  const name = `digest-${isoWeek(calendarParts(now, timeZone))}`;
  const base = join(outDir, name);
  await mkdir(outDir, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    const reason =
      error.code === 'EEXIST' || error.code === 'ENOTDIR'
        ? `${error.code === 'EEXIST' ? outDir : 'a part of it'} is a file, not a folder; pass another --out folder`
        : errorMessage(error);
    throw new PushletterError('DIGEST_NOT_WRITTEN', `cannot create the folder ${outDir}: ${reason}`, { cause: error });
  });
  await writeWhole(
    [
      { path: `${base}.html`, content: preview.html },
      { path: `${base}.txt`, content: preview.text },
      { path: `${base}.eml`, content: eml },
    ],
    'DIGEST_NOT_WRITTEN',
    { option: '--out' },
  );
  const left = posts.length - email.shown;
  const lines = [
    `✓ digest of ${posts.length} post${posts.length === 1 ? '' : 's'} dated from ${sinceDay} (${siteSettings.siteTitle})`,
    `  subject: ${email.subject}`,
    `  html ${kilobytes(Buffer.byteLength(email.html))}${left > 0 ? ` (${left} post${left === 1 ? '' : 's'} left to a link to the blog, to fit Gmail)` : ''} → ${base}.{html,txt,eml}`,
    ...email.warnings.map((warning) => `  warning: ${warning.message} [${warning.code}]`),
    '',
    `${posts.length} in the digest, ${skipped} skipped (not to be sent), ${failed.length} failed → ${outDir}/`,
  ];
  io.out.write(`${lines.join('\n')}\n`);
  return failed.length > 0 ? 1 : 0;
}

function describe(outcome: DigestOutcome): string {
  switch (outcome.status) {
    case 'started':
      return `sending ${outcome.digestId}: "${outcome.subject}": ${outcome.posts} post${outcome.posts === 1 ? '' : 's'} to ${outcome.readers} digest reader${outcome.readers === 1 ? '' : 's'} (${outcome.variants} variant${outcome.variants === 1 ? '' : 's'})`;
    case 'exists':
      return outcome.resumed
        ? `${outcome.digestId} was started before; its send carries on, nobody gets a second copy`
        : `${outcome.digestId} was already sent; nothing sent again (see \`pushletter status ${outcome.digestId}\`)`;
    case 'empty':
      return `no posts went out in the week of ${outcome.digestId}: no digest is sent`;
    case 'no-readers':
      return `${outcome.posts} post${outcome.posts === 1 ? '' : 's'} went out in the week of ${outcome.digestId}, but no reader took the weekly digest when ${outcome.posts === 1 ? 'it was' : 'they were'} sent, or none of ${outcome.posts === 1 ? 'it is' : 'them are'} in their topics: no digest is sent (readers who take every post had them one by one)`;
  }
}

async function sendNow(io: DigestIo): Promise<number> {
  if (readEnv(ENV.target) === 'aws')
    throw new InvalidInputError(
      'DIGEST_AWS_UNSUPPORTED',
      'digest --send sends through the local stack only; on AWS the stack sends the digest on its schedule (digestDay, digestHour, timezone in cdk.json)',
    );
  const [{ connectToLocalStack }, { readLocalPorts }, { DIGEST_PATH }, { PUBLISH_SIGNATURE_HEADER }, publish] =
    await Promise.all([
      import('../local/local-services'),
      import('../commons/config'),
      import('../local/digest-route'),
      import('../local/publish-route'),
      import('./publish-command'),
    ]);
  const stack = await connectToLocalStack();
  try {
    const url = `http://127.0.0.1:${readLocalPorts().http}${DIGEST_PATH}`;
    const response = await publish.postSigned(url, '{}', stack.secrets.webhookSecret, PUBLISH_SIGNATURE_HEADER);
    const answer = (await response.json().catch(() => ({}))) as DigestOutcome & { message?: string };
    if (!response.ok)
      throw new PushletterError(
        'DIGEST_FAILED',
        `the digest failed: ${answer.message ?? `the stack answered ${response.status}`}`,
      );
    io.out.write(`${describe(answer)}\n`);
    if (answer.status === 'started' || (answer.status === 'exists' && answer.resumed)) {
      const { DynamoIssueStore } = await import('../adapters/dynamodb/issue-store');
      const issues = new DynamoIssueStore(stack.dynamo, stack.resources);
      io.out.write(`${await publish.follow(issues, answer.digestId, io)}\n`);
    }
    return 0;
  } finally {
    stack.dynamo.destroy();
    stack.ses.destroy();
  }
}
