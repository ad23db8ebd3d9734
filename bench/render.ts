import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { run as renderCommand } from '../functions/cli/render-command';
import { readSettings } from '../functions/commons/config';
import { DEMO_POST } from '../functions/local/demo';
import {
  forgetEmailSkeletons,
  loadMjml,
  MJML_OPTIONS,
  renderEmail,
  renderEmailDirectly,
} from '../functions/render/email';
import { parsePost } from '../functions/render/post';
import { findSiteRoot, loadSite } from '../functions/render/site';

/**
 * Render benchmark.
 * 1. The example post end to end (front matter, Liquid, Markdown, sanitising, styles, email HTML,
 *    plain text) against a bare `mjml2html` of the final MJML a full compile of that post would
 *    take. The email HTML comes from a skeleton mjml compiles once per shape of email (language,
 *    image or not, cut or not) and the process caches, so a warm render runs no mjml at all; the
 *    first render of a shape (cache emptied before each) is reported on its own line. Both sides
 *    are warmed first, then measured in alternating rounds so drift in the machine's load hits
 *    both alike; medians are compared.
 * 2. `pushletter render` on a folder of 200 generated posts in one process, files written.
 */
export interface RenderBenchResult {
  name: string;
  measured: string;
  baseline: string;
  ratio: number | null;
  goal: string;
  passed: boolean;
  details: Record<string, number>;
}

const WARM_UP_ROUNDS = 30;
const MEASURED_ROUNDS = 80;
const COLD_ROUNDS = 20;
const FOLDER_POSTS = 200;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const round = (value: number, digits = 2) => Number(value.toFixed(digits));

async function examplePostVersusMjml(): Promise<RenderBenchResult[]> {
  // The example blog's post, the one `npm start` publishes.
  const path = DEMO_POST;
  const settings = readSettings();
  const source = await readFile(path);
  const site = await loadSite(findSiteRoot(path), settings);
  const parseTimes: number[] = [];
  const endToEnd = async () => {
    const started = performance.now();
    const post = await parsePost({ path, source, site });
    parseTimes.push(performance.now() - started);
    return renderEmail(post, site, settings);
  };
  const mjmlLoadStarted = performance.now();
  const mjml2html = await loadMjml();
  const mjmlLoadMs = performance.now() - mjmlLoadStarted;
  // The very first render in the process: skeleton cache empty, code not yet optimised.
  const firstStarted = performance.now();
  const first = await endToEnd();
  const firstRenderMs = performance.now() - firstStarted;
  // The final MJML is what the direct path (mjml on each post's full MJML) compiles; the
  // cached path must give the same HTML, or the comparison would be of different work.
  const direct = await renderEmailDirectly(await parsePost({ path, source, site }), site, settings);
  if (direct.email.html !== first.html)
    throw new Error('the cached email skeleton gives different HTML than a full mjml compile of the example post');
  const { mjml } = direct;
  const bare = () => mjml2html(mjml, { ...MJML_OPTIONS });

  for (let index = 0; index < WARM_UP_ROUNDS; index++) {
    await endToEnd();
    await bare();
  }
  parseTimes.length = 0;
  const pushletterTimes: number[] = [];
  const mjmlTimes: number[] = [];
  const time = async (work: () => Promise<unknown> | unknown, into: number[]) => {
    const started = performance.now();
    await work();
    into.push(performance.now() - started);
  };
  for (let index = 0; index < MEASURED_ROUNDS; index++) {
    // Alternate which goes first so neither always runs right after a garbage collection.
    if (index % 2 === 0) {
      await time(endToEnd, pushletterTimes);
      await time(bare, mjmlTimes);
    } else {
      await time(bare, mjmlTimes);
      await time(endToEnd, pushletterTimes);
    }
  }
  const pushletterMs = median(pushletterTimes);
  const mjmlMs = median(mjmlTimes);
  const ratio = pushletterMs / mjmlMs;
  // The same rounds without the parse: what the email step adds around mjml on its own.
  const emailMs = median(pushletterTimes.map((total, index) => total - (parseTimes[index] ?? 0)));

  // The first post of a shape: the skeleton is compiled (with mjml) before the values go in.
  const coldTimes: number[] = [];
  const coldMjmlTimes: number[] = [];
  for (let index = 0; index < COLD_ROUNDS; index++) {
    forgetEmailSkeletons();
    await time(endToEnd, coldTimes);
    await time(bare, coldMjmlTimes);
  }
  const coldMs = median(coldTimes);
  const coldMjmlMs = median(coldMjmlTimes);

  const emailRow: RenderBenchResult = {
    name: 'of which the email step (styles, cached skeleton filled, plain text; no mjml when warm) vs bare mjml2html',
    measured: `${round(emailMs)} ms`,
    baseline: `${round(mjmlMs)} ms`,
    ratio: round(emailMs / mjmlMs),
    goal: 'diagnostic',
    passed: true,
    details: { emailMedianMs: round(emailMs, 3), mjmlMedianMs: round(mjmlMs, 3) },
  };
  const coldRow: RenderBenchResult = {
    name: 'first post of a shape (skeleton compiled by mjml, then filled) vs bare mjml2html (median)',
    measured: `${round(coldMs)} ms (first in process ${round(firstRenderMs)} ms)`,
    baseline: `${round(coldMjmlMs)} ms`,
    ratio: round(coldMs / coldMjmlMs),
    goal: 'diagnostic',
    passed: true,
    details: {
      coldMedianMs: round(coldMs, 3),
      mjmlMedianMs: round(coldMjmlMs, 3),
      firstRenderInProcessMs: round(firstRenderMs, 3),
      mjmlLoadMs: round(mjmlLoadMs, 3),
      rounds: COLD_ROUNDS,
    },
  };
  return [
    {
      name: 'example post end to end, email skeleton compiled once per shape and cached, vs bare mjml2html of the same final MJML (warm median)',
      measured: `${round(pushletterMs)} ms (parse ${round(median(parseTimes))} ms)`,
      baseline: `${round(mjmlMs)} ms`,
      ratio: round(ratio),
      goal: '≤ 1.3×',
      passed: ratio <= 1.3,
      details: {
        pushletterMedianMs: round(pushletterMs, 3),
        mjmlMedianMs: round(mjmlMs, 3),
        // Where the time goes, and the least-disturbed runs (the machine may be shared).
        parseMedianMs: round(median(parseTimes), 3),
        pushletterFastestMs: round(Math.min(...pushletterTimes), 3),
        mjmlFastestMs: round(Math.min(...mjmlTimes), 3),
        fastestRatio: round(Math.min(...pushletterTimes) / Math.min(...mjmlTimes)),
        rounds: MEASURED_ROUNDS,
      },
    },
    emailRow,
    coldRow,
  ];
}

/** A post of a realistic mix: prose, a list, code, a table, a link to a sibling post; Chinese or English. */
function generatedPost(index: number): string {
  const chinese = index % 2 === 0;
  const day = String((index % 28) + 1).padStart(2, '0');
  const month = String((index % 12) + 1).padStart(2, '0');
  const paragraphs = Array.from({ length: 8 }, (_, paragraph) =>
    chinese
      ? `第 ${paragraph + 1} 段：这是一篇用于基准测试的文章，记录了集群升级、滚动发布和回滚演练的过程。参见 <https://example.cn/docs/${index}/${paragraph}>。`
      : `Paragraph ${paragraph + 1}: notes on rolling upgrades, release checks and rollback drills, with [a link](https://example.com/docs/${index}/${paragraph}) and \`inline code\`.`,
  );
  return [
    '---',
    `title: "${chinese ? `基准文章 ${index}` : `Benchmark post ${index}`}"`,
    `description: ${chinese ? '用于测量渲染速度的生成文章' : 'A generated post for measuring render speed'}`,
    `categories: [${chinese ? '技术' : 'notes'}]`,
    `lang: ${chinese ? 'zh-CN' : 'en'}`,
    '---',
    '',
    `## ${chinese ? '背景' : 'Background'}`,
    '',
    ...paragraphs.slice(0, 4).flatMap((text) => [text, '']),
    '- one',
    '- two',
    '- three',
    '',
    '```yaml',
    'image:',
    `  tag: "{{ .Values.image.tag }}-${index}"`,
    '```',
    '',
    '| step | owner | minutes |',
    '|------|-------|--------:|',
    '| drain | ops | 5 |',
    '| upgrade | ops | 12 |',
    '',
    `## ${chinese ? '结论' : 'Conclusion'}`,
    '',
    ...paragraphs.slice(4).flatMap((text) => [text, '']),
    `{{ site.title }} · {{ page.title }}`,
    '',
  ]
    .join('\n')
    .replace(/^(---\ntitle.*)$/m, `$1\ndate: 2024-${month}-${day} 10:00:00 +0800`);
}

async function folderOfPosts(): Promise<RenderBenchResult> {
  const site = await mkdtemp(join(tmpdir(), 'pushletter-bench-render-'));
  try {
    await mkdir(join(site, '_posts'), { recursive: true });
    await writeFile(
      join(site, '_config.yml'),
      'title: Bench Notes\nurl: https://bench.example.com\npermalink: /:categories/:year/:month/:day/:title/\ntimezone: Asia/Shanghai\n',
    );
    await Promise.all(
      Array.from({ length: FOLDER_POSTS }, (_, index) => {
        const day = String((index % 28) + 1).padStart(2, '0');
        const month = String((index % 12) + 1).padStart(2, '0');
        return writeFile(join(site, '_posts', `2024-${month}-${day}-post-${index}.md`), generatedPost(index));
      }),
    );
    const discard = () => new Writable({ write: (_chunk, _encoding, done) => done() });
    const started = performance.now();
    const code = await renderCommand([site, '--out', join(site, 'out')], {
      out: discard(),
      err: discard(),
      settings: readSettings(),
    });
    const seconds = (performance.now() - started) / 1000;
    const postsPerSecond = FOLDER_POSTS / seconds;
    return {
      name: `pushletter render on a folder of ${FOLDER_POSTS} posts (one process, files written)`,
      measured: `${round(postsPerSecond, 1)} posts/s`,
      baseline: `${round(seconds)} s total`,
      ratio: null,
      goal: 'all rendered',
      passed: code === 0,
      details: {
        posts: FOLDER_POSTS,
        seconds: round(seconds, 3),
        postsPerSecond: round(postsPerSecond, 1),
        exitCode: code,
      },
    };
  } finally {
    await rm(site, { recursive: true, force: true });
  }
}

export async function runRenderBenchmark(): Promise<RenderBenchResult[]> {
  return [...(await examplePostVersusMjml()), await folderOfPosts()];
}

export function formatRenderTable(results: RenderBenchResult[]): string {
  const header = ['benchmark', 'measured', 'baseline', 'ratio', 'goal', 'passed'];
  const rows = results.map((result) => [
    result.name,
    result.measured,
    result.baseline,
    result.ratio === null ? '' : `${result.ratio}×`,
    result.goal,
    result.passed ? 'yes' : 'NO',
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  return [header, ...rows].map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ')).join('\n');
}
