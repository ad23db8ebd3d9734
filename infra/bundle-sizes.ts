import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import cdkJson from '../cdk.json';
import { buildApp } from './app';
import type { PushletterStack } from './stack';

/** One function's bundle as esbuild wrote it into the cloud assembly. */
export interface BundleReport {
  name: string;
  /** The bundle's folder in the assembly (`asset.<hash>`), zipped and uploaded by `cdk deploy`. */
  directory: string;
  codeBytes: number;
  /** The code compressed, close to what Lambda stores and loads. */
  gzipBytes: number;
  sourceMapBytes: number;
  /** Packages from node_modules the bundle contains, by the source map's list of sources. */
  packages: string[];
}

export function functionsOf(stack: PushletterStack) {
  return {
    api: stack.api.handler,
    ingest: stack.pipeline.ingest,
    dispatch: stack.pipeline.dispatch,
    send: stack.pipeline.send,
    'ses-events': stack.pipeline.sesEvents,
    digest: stack.pipeline.digest,
  };
}

function packageOf(source: string): string | undefined {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source.slice(source.lastIndexOf('node_modules/')));
  return match?.[1];
}

/** Reads every function's bundle from a synthesized assembly (`outdir` of an App that bundled). */
export function readBundles(stack: PushletterStack, outdir: string): BundleReport[] {
  const template = JSON.parse(fs.readFileSync(path.join(outdir, `${stack.artifactId}.template.json`), 'utf8')) as {
    Resources: Record<string, { Properties: { Code: { S3Key: string } } }>;
  };
  return Object.entries(functionsOf(stack)).map(([name, fn]) => {
    const logicalId = Stack.of(fn).getLogicalId(fn.node.defaultChild as CfnElement);
    const hash = template.Resources[logicalId]!.Properties.Code.S3Key.replace(/\.zip$/, '');
    const directory = path.join(outdir, `asset.${hash}`);
    const code = fs.readFileSync(path.join(directory, 'index.mjs'));
    const mapPath = path.join(directory, 'index.mjs.map');
    const sources = (JSON.parse(fs.readFileSync(mapPath, 'utf8')) as { sources: string[] }).sources;
    const packages = [...new Set(sources.map(packageOf).filter((item): item is string => item !== undefined))].sort();
    return {
      name,
      directory,
      codeBytes: code.length,
      gzipBytes: gzipSync(code, { level: 9 }).length,
      sourceMapBytes: fs.statSync(mapPath).size,
      packages,
    };
  });
}

/** Synthesizes with real esbuild bundling into a fresh folder; the caller removes it. */
export function synthesizeBundles(context: Record<string, unknown> = cdkJson.context): {
  stack: PushletterStack;
  outdir: string;
} {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'pushletter-bundles-'));
  const { app, stack } = buildApp(new App({ outdir, context }));
  app.synth();
  return { stack, outdir };
}

const kilobytes = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

export function formatBundles(reports: BundleReport[]): string {
  const rows = reports.map((report) => [
    report.name,
    kilobytes(report.codeBytes),
    kilobytes(report.gzipBytes),
    kilobytes(report.sourceMapBytes),
    report.packages.includes('mjml') ? 'yes' : 'no',
    String(report.packages.length),
  ]);
  const header = ['function', 'index.mjs', 'gzipped', 'source map', 'mjml', 'packages'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

// `npx tsx infra/bundle-sizes.ts`: bundle every function as `cdk synth` does and print the sizes.
if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  const { stack, outdir } = synthesizeBundles();
  try {
    console.log(formatBundles(readBundles(stack, outdir)));
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}
