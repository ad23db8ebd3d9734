import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { App } from 'aws-cdk-lib';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import cdkJson from '../../cdk.json';
import { buildApp } from '../../infra/app';
import { type BundleReport, formatBundles, readBundles } from '../../infra/bundle-sizes';
import { BUNDLING, PROJECT_ROOT } from '../../infra/constructs/function';

/**
 * The one suite that bundles for real, as `cdk synth` does. The assembly goes under cdk.out/
 * (ignored by git) so the bundles can be loaded with the project's node_modules for the
 * packages Lambda's runtime provides (@aws-sdk/*).
 */
let outdir: string;
let bundles: Record<string, BundleReport>;

beforeAll(() => {
  fs.mkdirSync(path.join(PROJECT_ROOT, 'cdk.out'), { recursive: true });
  outdir = fs.mkdtempSync(path.join(PROJECT_ROOT, 'cdk.out', 'bundles-test-'));
  const { app, stack } = buildApp(new App({ outdir, context: cdkJson.context }));
  app.synth();
  const reports = readBundles(stack, outdir);
  console.log(`\n${formatBundles(reports)}\n`);
  bundles = Object.fromEntries(reports.map((report) => [report.name, report]));
}, 600_000);

afterAll(() => {
  if (outdir) fs.rmSync(outdir, { recursive: true, force: true });
});

describe('function bundles', () => {
  it('hold mjml only in ingest and digest, the functions that render emails', () => {
    const withMjml = Object.values(bundles)
      .filter((bundle) => bundle.packages.includes('mjml'))
      .map((bundle) => bundle.name);
    expect(withMjml.sort()).toEqual(['digest', 'ingest']);
  });

  it('hold no charting library: echarts draws the report in the CLI only', () => {
    for (const bundle of Object.values(bundles)) {
      expect(
        bundle.packages.filter((name) => name === 'echarts' || name === 'zrender'),
        bundle.name,
      ).toEqual([]);
    }
  });

  it('leave the AWS SDK to the Node 22 runtime instead of bundling it', () => {
    for (const bundle of Object.values(bundles)) {
      expect(
        bundle.packages.filter((name) => name.startsWith('@aws-sdk/')),
        bundle.name,
      ).toEqual([]);
      const code = fs.readFileSync(path.join(bundle.directory, 'index.mjs'), 'utf8');
      expect(code, bundle.name).toMatch(/from\s*"@aws-sdk\/client-/);
    }
  });

  it('stay small where cold starts matter: under 1 MB for every function but the renderers and api', () => {
    for (const bundle of Object.values(bundles)) {
      if (!['ingest', 'digest', 'api'].includes(bundle.name))
        expect(bundle.codeBytes, bundle.name).toBeLessThan(1024 * 1024);
    }
    // The API carries mailchecker's disposable-domain list (~1 MB of domain names), and only it.
    expect(bundles.api!.codeBytes).toBeLessThan(1.5 * 1024 * 1024);
    expect(fs.readFileSync(path.join(bundles.api!.directory, 'index.mjs'), 'utf8')).toContain('mailinator.com');
    for (const name of ['ingest', 'dispatch', 'send', 'ses-events', 'digest']) {
      expect(fs.readFileSync(path.join(bundles[name]!.directory, 'index.mjs'), 'utf8'), name).not.toContain(
        'mailinator.com',
      );
    }
    // Lambda's limit is 50 MB zipped; ingest and digest carry mjml and its HTML tooling.
    expect(bundles.ingest!.gzipBytes).toBeLessThan(5 * 1024 * 1024);
    expect(bundles.digest!.gzipBytes).toBeLessThan(5 * 1024 * 1024);
  });

  it('ship a linked source map, so stack traces name the TypeScript files', () => {
    for (const bundle of Object.values(bundles)) {
      const code = fs.readFileSync(path.join(bundle.directory, 'index.mjs'), 'utf8');
      expect(code.trimEnd().endsWith('//# sourceMappingURL=index.mjs.map'), bundle.name).toBe(true);
      const map = JSON.parse(fs.readFileSync(path.join(bundle.directory, 'index.mjs.map'), 'utf8')) as {
        sources: string[];
      };
      expect(
        map.sources.some((source) => source.endsWith(`functions/lambdas/${bundle.name}.ts`)),
        bundle.name,
      ).toBe(true);
    }
  });

  it('load as ES modules in a fresh Node process and export the handler Lambda calls', () => {
    for (const bundle of Object.values(bundles)) {
      const url = pathToFileURL(path.join(bundle.directory, 'index.mjs')).href;
      // Loading starts the cold-start work (reading the secret), which fails here without AWS;
      // exit as soon as the module has loaded and its export is known.
      const script = `import(${JSON.stringify(url)}).then((m) => { console.log(typeof m.handler); process.exit(0); })`;
      const result = spawnSync(process.execPath, ['-e', script], {
        encoding: 'utf8',
        timeout: 60_000,
        env: { PATH: process.env.PATH },
      });
      expect(result.stderr, bundle.name).not.toMatch(/Error/);
      expect(result.stdout.trim(), bundle.name).toBe('function');
    }
  });

  it('render MJML at run time when bundled the way the functions are (ESM, CommonJS mjml inside)', async () => {
    // The ingest handler needs AWS to reach its renderer; bundle the renderer alone with the
    // functions' esbuild settings and run it in a fresh Node process instead.
    const entry = path.join(outdir, 'render-entry.ts');
    fs.writeFileSync(
      entry,
      `import { compileMjml } from ${JSON.stringify(path.join(PROJECT_ROOT, 'functions/render/email'))};\n` +
        `const { html } = await compileMjml('<mjml><mj-body><mj-section><mj-column><mj-text>Hello 你好</mj-text></mj-column></mj-section></mj-body></mjml>');\n` +
        `console.log(html.includes('Hello 你好') && html.includes('<table') ? 'rendered' : 'not rendered');\n`,
    );
    const outfile = path.join(outdir, 'render-entry', 'index.mjs');
    await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      format: BUNDLING.format,
      target: BUNDLING.target,
      platform: 'node', // NodejsFunction always bundles for Node
      minify: BUNDLING.minify,
      sourcemap: BUNDLING.sourceMap,
      mainFields: BUNDLING.mainFields,
      external: BUNDLING.externalModules,
      banner: { js: BUNDLING.banner },
      logLevel: 'silent',
    });
    const result = spawnSync(process.execPath, [outfile], {
      encoding: 'utf8',
      timeout: 120_000,
      cwd: os.tmpdir(),
      env: { PATH: process.env.PATH },
    });
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.stdout.trim()).toBe('rendered');
  }, 300_000);
});
