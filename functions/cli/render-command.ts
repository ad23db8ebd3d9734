import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';
import type { Writable } from 'node:stream';
import { readSettings, type Settings } from '../commons/config';
import { errorMessage, InvalidInputError } from '../commons/errors';
import { personalise, valuesForLanguage } from '../mail/message';
import { compileIssueMessage } from '../publishing/ingest-post';
import { fillEmail, renderEmail } from '../render/email';
import { gatherIncludesFromFolder } from '../render/includes';
import { parsePost } from '../render/post';
import { findSiteRoot, loadSite } from '../render/site';
import type { SiteConfig, Warning } from '../render/types';
import { sampleLinks } from '../subscribers/tokens';
import { parseArgs } from './args';
import { Progress } from './progress';

const USAGE = 'render <post.md | folder>... [--site <dir with _config.yml>] [--out <dir>] [--strict]';

/** The `.eml` goes to a reader who does not exist. */
export const PREVIEW_RECIPIENT = 'reader@example.com';

const HELP = `usage: pushletter ${USAGE}

Renders each post into the email a subscriber would get, in --out (default ./out):
  <slug>.html   the HTML part, as sent
  <slug>.txt    the plain-text part
  <slug>.eml    the complete message to ${PREVIEW_RECIPIENT}, with every header a real send has
Their unsubscribe link opens a page of PUSHLETTER_PUBLIC_URL saying it came from a preview.
A folder renders every post in it (posts under _posts/ and _drafts/, else every Markdown file).
Without --site, each post's Jekyll site is the folder above its _posts/ or _drafts/ folder.
Exit status 1 if a post failed; with --strict also if a post has warnings.`;

const MARKDOWN = new Set(['.md', '.markdown', '.mkd', '.mkdn', '.mdown']);
const IGNORED_FOLDERS = new Set(['node_modules', '_site', '.git', '.jekyll-cache', '.sass-cache', 'vendor']);
/** Anything larger is refused before reading it whole (the post parser refuses over 1 MB anyway). */
const READ_LIMIT_BYTES = 32 * 1024 * 1024;

export interface RenderIo {
  out: Writable;
  err: Writable;
  /** Tests pass settings; the CLI reads them from the environment. */
  settings?: Settings;
}

interface Outcome {
  file: string;
  status: 'rendered' | 'skipped' | 'failed';
  reason?: string;
  slug?: string;
  subject?: string;
  htmlBytes?: number;
  truncated?: boolean;
  warnings?: Warning[];
}

export function markdownFilesIn(folder: string): string[] {
  const found: string[] = [];
  const visit = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith('.')) continue;
      const path = join(current, entry.name);
      if (entry.isDirectory()) {
        if (!IGNORED_FOLDERS.has(entry.name)) visit(path);
      } else if (MARKDOWN.has(extname(entry.name).toLowerCase())) {
        found.push(path);
      }
    }
  };
  visit(folder);
  // In a Jekyll site only _posts/ and _drafts/ hold posts; README.md and pages are not emails.
  const posts = found.filter(
    (path) => /(^|[\\/])_(posts|drafts)[\\/]/.test(relative(folder, path)) || /(^|[\\/])_(posts|drafts)$/.test(folder),
  );
  return posts.length > 0 ? posts : found;
}

/** Each argument as files to render; a missing path is reported, not thrown. */
function collect(paths: string[]): { files: string[]; missing: Outcome[]; hasFolder: boolean } {
  const files: string[] = [];
  const missing: Outcome[] = [];
  let hasFolder = false;
  for (const path of paths) {
    if (!existsSync(path)) {
      missing.push({ file: path, status: 'failed', reason: `${path}: no such file or folder` });
    } else if (statSync(path).isDirectory()) {
      hasFolder = true;
      files.push(...markdownFilesIn(path));
    } else {
      files.push(path);
    }
  }
  return { files: [...new Set(files)], missing, hasFolder };
}

const kilobytes = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

/** Posts are read from where the editor keeps them; failures name the file first. */
function withFile(file: string, message: string): string {
  return message.startsWith(file) ? message : `${file}: ${message}`;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * A warning about the previews' unsubscribe links, only when it matters: links to a plain-http
 * address that mail clients can reach (a tunnel, a test server), where Gmail and Yahoo would
 * not offer one-click unsubscribe. The local stack's own address and a deployed stack's
 * https URL need no word.
 */
export function publicUrlNote(publicUrl: string): string | undefined {
  const url = new URL(publicUrl);
  if (url.protocol === 'https:' || LOOPBACK_HOSTS.has(url.hostname)) return undefined;
  return `note: unsubscribe links use PUSHLETTER_PUBLIC_URL=${publicUrl}; Gmail and Yahoo only honour one-click unsubscribe over https (a deployed stack's URL is)`;
}

export async function run(
  args: string[],
  io: RenderIo = { out: process.stdout, err: process.stderr },
): Promise<number> {
  const { values, positionals } = parseArgs(
    args,
    {
      site: { type: 'string' },
      out: { type: 'string' },
      strict: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    USAGE,
  );
  if (values.help) {
    io.out.write(`${HELP}\n`);
    return 0;
  }
  if (positionals.length === 0)
    throw new InvalidInputError('CLI_USAGE', `name at least one post or folder\nusage: pushletter ${USAGE}`);
  const settings = io.settings ?? readSettings();
  const outDir = values.out ?? 'out';
  const siteOption = values.site;
  if (siteOption !== undefined && !existsSync(siteOption)) {
    throw new InvalidInputError(
      'CLI_USAGE',
      `--site ${siteOption}: no such folder; pass the folder that holds the blog's _config.yml`,
    );
  }

  const note = publicUrlNote(settings.publicUrl);
  if (note !== undefined) io.err.write(`${note}\n`);
  const { files, missing, hasFolder } = collect(positionals);
  const outcomes: Outcome[] = [...missing];
  for (const outcome of missing) io.out.write(`✗ ${outcome.reason}\n`);
  await mkdir(outDir, { recursive: true });

  const sites = new Map<string, Promise<SiteConfig>>();
  const siteFor = (file: string) => {
    const root = siteOption ?? findSiteRoot(file);
    const key = root ?? '';
    let site = sites.get(key);
    if (!site) {
      site = loadSite(root, settings);
      sites.set(key, site);
    }
    return site;
  };
  const usedNames = new Set<string>();
  const progress =
    hasFolder && files.length > 1 ? new Progress('render', files.length, io.err as NodeJS.WriteStream) : undefined;

  for (const file of files) {
    const outcome = await renderOne(file, { siteFor, settings, outDir, usedNames });
    outcomes.push(outcome);
    io.out.write(describe(outcome, outDir));
    progress?.tick(1, outcome.slug ?? '');
  }
  progress?.finish();

  io.out.write(summary(outcomes, outDir));
  const failed = outcomes.some((outcome) => outcome.status === 'failed');
  const warned = outcomes.some((outcome) => (outcome.warnings?.length ?? 0) > 0);
  return failed || (values.strict && warned) ? 1 : 0;
}

interface RenderContext {
  siteFor(file: string): Promise<SiteConfig>;
  settings: Settings;
  outDir: string;
  usedNames: Set<string>;
}

async function renderOne(file: string, context: RenderContext): Promise<Outcome> {
  try {
    const size = statSync(file).size;
    if (size > READ_LIMIT_BYTES) {
      return { file, status: 'failed', reason: `${file}: the file is ${kilobytes(size)}; a post must be under 1 MB` };
    }
    const site = await context.siteFor(file);
    const source = await readFile(file);
    // The includes publish and the webhook would send with the post, so the preview matches them.
    const includes =
      site.root === undefined ? undefined : (await gatherIncludesFromFolder(source.toString('utf8'), site.root)).files;
    const post = await parsePost({ path: file, source, site, includes });
    if (post.skipReason) return { file, status: 'skipped', reason: post.skipReason, slug: post.slug };

    const email = await renderEmail(post, site, context.settings);
    // Two posts with one slug (another date or category) must not overwrite each other.
    const name = context.usedNames.has(post.slug) ? post.id : post.slug;
    context.usedNames.add(name);
    const message = compileIssueMessage(email, context.settings);
    // Every part gets links that answer (a page saying they came from a preview), never a
    // placeholder, and the footer in the post's language (a reader's copy has it in theirs).
    const values = {
      ...valuesForLanguage(email.footerWords, undefined),
      ...sampleLinks(context.settings.publicUrl, 'preview'),
    };
    const eml = personalise(message, { to: PREVIEW_RECIPIENT, values });
    const preview = fillEmail(email, values);
    const base = join(context.outDir, name);
    await Promise.all([
      writeFile(`${base}.html`, preview.html),
      writeFile(`${base}.txt`, preview.text),
      writeFile(`${base}.eml`, eml),
    ]);
    return {
      file,
      status: 'rendered',
      slug: name,
      subject: email.subject,
      htmlBytes: Buffer.byteLength(email.html),
      truncated: email.truncated,
      warnings: email.warnings,
    };
  } catch (error) {
    if (!(error instanceof InvalidInputError)) {
      // Not the post's fault: keep the detail so it can be reported as a bug.
      const detail =
        error instanceof Error && error.stack ? error.stack.split('\n').slice(0, 2).join(' ') : errorMessage(error);
      return { file, status: 'failed', reason: withFile(file, `could not be rendered (${detail})`) };
    }
    return { file, status: 'failed', reason: withFile(file, error.message.split('\n')[0] ?? error.message) };
  }
}

function describe(outcome: Outcome, outDir: string): string {
  if (outcome.status === 'failed') return `✗ ${outcome.reason}\n`;
  if (outcome.status === 'skipped') return `– ${outcome.file}: skipped (${outcome.reason})\n`;
  const lines = [
    `✓ ${outcome.file}`,
    `  subject: ${outcome.subject}`,
    `  html ${kilobytes(outcome.htmlBytes ?? 0)}${outcome.truncated ? ' (cut to fit Gmail)' : ''} → ${join(outDir, outcome.slug ?? '')}.{html,txt,eml}`,
    ...(outcome.warnings ?? []).map((warning) => `  warning: ${warning.message} [${warning.code}]`),
  ];
  return `${lines.join('\n')}\n`;
}

function summary(outcomes: Outcome[], outDir: string): string {
  const by = (status: Outcome['status']) => outcomes.filter((outcome) => outcome.status === status);
  const rendered = by('rendered');
  const skipped = by('skipped');
  const failed = by('failed');
  const warnings = rendered.reduce((count, outcome) => count + (outcome.warnings?.length ?? 0), 0);
  const lines = [
    '',
    `${rendered.length} rendered, ${skipped.length} skipped, ${failed.length} failed, ${warnings} warning${warnings === 1 ? '' : 's'} → ${outDir}/`,
  ];
  if (skipped.length) lines.push('skipped:', ...skipped.map((outcome) => `  ${outcome.file}: ${outcome.reason}`));
  if (failed.length) lines.push('failed:', ...failed.map((outcome) => `  ${outcome.reason}`));
  const largest = rendered.reduce<Outcome | undefined>(
    (best, outcome) => ((outcome.htmlBytes ?? 0) > (best?.htmlBytes ?? -1) ? outcome : best),
    undefined,
  );
  if (largest) lines.push(`largest email: ${largest.slug} (html ${kilobytes(largest.htmlBytes ?? 0)})`);
  const cut = rendered.filter((outcome) => outcome.truncated);
  if (cut.length)
    lines.push(
      `cut to stay under Gmail's 102 KB clipping, with a "continue reading" link: ${cut.map((outcome) => outcome.slug).join(', ')}`,
    );
  return `${lines.join('\n')}\n`;
}
