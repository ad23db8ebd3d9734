import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/**
 * `npm run bench [-- <part>...]`: runs the benchmark parts (all, or the ones named), prints a
 * table per part and merges each part's results into bench/results.json under its name, so
 * running one part keeps the others' last figures.
 *
 * A part is loaded only when it runs. To add one, append an entry to PARTS.
 */
export interface BenchmarkPart {
  /** Results are plain JSON; one with `passed: false` makes the run exit 1. */
  run(): Promise<unknown[]>;
  table(): string;
}

/** Binds a part's results to its own table formatter. */
function part<Result>(run: () => Promise<Result[]>, table: (results: Result[]) => string): BenchmarkPart {
  let results: Result[] = [];
  return {
    run: async () => (results = await run()),
    table: () => table(results),
  };
}

const PARTS: Record<string, () => Promise<BenchmarkPart>> = {
  render: async () => {
    const { runRenderBenchmark, formatRenderTable } = await import('./render');
    return part(runRenderBenchmark, formatRenderTable);
  },
  api: async () => {
    const { runApiBenchmark, formatApiTable } = await import('./api');
    return part(() => runApiBenchmark(), formatApiTable);
  },
  redirect: async () => {
    const { runRedirectBenchmark, formatApiTable } = await import('./api');
    return part(() => runRedirectBenchmark(), formatApiTable);
  },
  send: async () => {
    const { runSendBenchmark } = await import('./send');
    return part(
      () => runSendBenchmark(),
      (results) =>
        results
          .map(
            (result) =>
              `${result.name}: ${result.measured} vs ${result.baseline} (ratio ${String(result.ratio)}, goal ${result.goal}) ${result.passed ? 'ok' : 'MISSED'}`,
          )
          .join('\n'),
    );
  },
  counting: async () => {
    const { runCountingBenchmark, formatCountingTable } = await import('./counting');
    return part(runCountingBenchmark, formatCountingTable);
  },
};

const RESULTS_FILE = fileURLToPath(new URL('./results.json', import.meta.url));

async function main(names: string[]): Promise<number> {
  const unknown = names.filter((name) => !(name in PARTS));
  if (unknown.length > 0) {
    console.error(`unknown benchmark part(s): ${unknown.join(', ')}; parts: ${Object.keys(PARTS).join(', ')}`);
    return 2;
  }
  const selected = names.length > 0 ? names : Object.keys(PARTS);
  let failed = false;
  for (const name of selected) {
    console.log(`\n== ${name} ==`);
    const benchmark = await PARTS[name]!();
    const results = await benchmark.run();
    console.log(benchmark.table());
    failed ||= results.some((result) => (result as { passed?: boolean }).passed === false);
    // Re-read before each write: a part may have run for minutes, and each keeps its own key.
    const existing = JSON.parse(await readFile(RESULTS_FILE, 'utf8').catch(() => '{}')) as Record<string, unknown>;
    await writeFile(
      RESULTS_FILE,
      `${JSON.stringify({ ...existing, [name]: results, updatedAt: new Date().toISOString() }, null, 2)}\n`,
    );
  }
  console.log(`\nresults: ${RESULTS_FILE}`);
  return failed ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
