/**
 * `npx tsx bench/render-memory.ts <kind>`: renders one hostile post (parse and email) in this
 * process and prints how it ended, how long it took and the process's peak RSS, the figure the
 * ingest Lambda's 1 GB is measured against. One post per process, so each peak is its own.
 * Not a part of `npm run bench`: it measures bounds, not speed against a baseline.
 */
import { readSettings } from '../functions/commons/config';
import { errorMessage } from '../functions/commons/errors';
import { renderEmail } from '../functions/render/email';
import { parsePost } from '../functions/render/post';
import { loadSite } from '../functions/render/site';

const MEGABYTE = 1_000_000;

function table(bytes: number, cell: string): string {
  const row = `|${`${cell}|`.repeat(10)}\n`;
  return `|${`${cell}|`.repeat(10)}\n|${'---|'.repeat(10)}\n${row.repeat(Math.floor(bytes / row.length))}`;
}

const BODIES: Record<string, () => string> = {
  table: () => table(0.99 * MEGABYTE - 100, ' cell '),
  // Three times the cells in the same megabyte.
  cells: () => table(0.99 * MEGABYTE - 100, 'x'),
  quotes: () => '> '.repeat(100_000) + 'deep',
  lists: () => '- '.repeat(100_000) + 'deep',
  emphasis: () => '*a '.repeat(100_000) + 'deep' + ' a*'.repeat(100_000),
  html: () => '<div>'.repeat(80_000) + 'deep' + '</div>'.repeat(80_000),
  range: () => '{% for i in (1..100000000) %}x{% endfor %}',
  loops: () => '{% for i in (1..20000) %}{% for j in (1..20000) %}x{% endfor %}{% endfor %}',
};

async function main(kind: string | undefined): Promise<number> {
  const body = kind === undefined ? undefined : BODIES[kind];
  if (body === undefined) {
    console.error(`usage: npx tsx bench/render-memory.ts <${Object.keys(BODIES).join(' | ')}>`);
    return 1;
  }
  const settings = readSettings({});
  const site = await loadSite(undefined, settings);
  const source = `---\ntitle: ${kind}\n---\n\n${body()}\n`;
  const started = performance.now();
  let outcome: string;
  try {
    const post = await parsePost({ path: `_posts/2024-01-01-${kind}.md`, source, site });
    const email = await renderEmail(post, site, settings);
    outcome = `rendered: ${Math.round(email.html.length / 1024)} KB of HTML, warnings ${email.warnings.map((warning) => warning.code).join(', ') || 'none'}`;
  } catch (error) {
    outcome = `refused: ${errorMessage(error)}`;
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`${kind}: ${Math.round(source.length / 1024)} KB post, ${outcome}`);
  console.log(`${kind}: ${seconds.toFixed(1)} s, peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
  return 0;
}

process.exitCode = await main(process.argv[2]);
