import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import cdkJson from '../../cdk.json';
import { buildApp } from '../../infra/app';
import { type BundleReport, formatBundles, readBundles } from '../../infra/bundle-sizes';
import { PROJECT_ROOT } from '../../infra/constructs/function';

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
  it('hold mjml only in ingest, the one function that renders posts', () => {
    const withMjml = Object.values(bundles).filter((bundle) => bundle.packages.includes('mjml')).map((bundle) => bundle.name);
    expect(withMjml).toEqual(['ingest']);
  });

  it('leave the AWS SDK to the Node 22 runtime instead of bundling it', () => {
    for (const bundle of Object.values(bundles)) {
      expect(bundle.packages.filter((name) => name.startsWith('@aws-sdk/')), bundle.name).toEqual([]);
      const code = fs.readFileSync(path.join(bundle.directory, 'index.mjs'), 'utf8');
      expect(code, bundle.name).toMatch(/from\s*"@aws-sdk\/client-/);
    }
  });

  it('stay small where cold starts matter: under 1 MB for every function but ingest', () => {
    for (const bundle of Object.values(bundles)) {
      if (bundle.name !== 'ingest') expect(bundle.codeBytes, bundle.name).toBeLessThan(1024 * 1024);
    }
    // Lambda's limit is 50 MB zipped; ingest carries mjml and its HTML tooling.
    expect(bundles.ingest!.gzipBytes).toBeLessThan(5 * 1024 * 1024);
  });

  it('ship a linked source map, so stack traces name the TypeScript files', () => {
    for (const bundle of Object.values(bundles)) {
      const code = fs.readFileSync(path.join(bundle.directory, 'index.mjs'), 'utf8');
      expect(code.trimEnd().endsWith('//# sourceMappingURL=index.mjs.map'), bundle.name).toBe(true);
      const map = JSON.parse(fs.readFileSync(path.join(bundle.directory, 'index.mjs.map'), 'utf8')) as { sources: string[] };
      expect(map.sources.some((source) => source.endsWith(`functions/${bundle.name}.ts`)), bundle.name).toBe(true);
    }
  });

  it('load as ES modules in a fresh Node process and export the handler Lambda calls', () => {
    for (const bundle of Object.values(bundles)) {
      const url = pathToFileURL(path.join(bundle.directory, 'index.mjs')).href;
      // Loading starts the cold-start work (reading the secret), which fails here without AWS;
      // exit as soon as the module has loaded and its export is known.
      const script = `import(${JSON.stringify(url)}).then((m) => { console.log(typeof m.handler); process.exit(0); })`;
      const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH } });
      expect(result.stderr, bundle.name).not.toMatch(/Error/);
      expect(result.stdout.trim(), bundle.name).toBe('function');
    }
  });
});
