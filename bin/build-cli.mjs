#!/usr/bin/env node
// Builds the CLI ahead (npm's `prepare` runs this on `npm install`/`npm ci`): one ESM file in
// dist/ that loads its packages from node_modules, so `pushletter` starts without compiling
// TypeScript. bin/pushletter.js runs the sources through tsx instead while they are newer.
import { build } from 'esbuild';

await build({
  // The local stack renders posts in a worker thread: its module is built beside the CLI.
  entryPoints: {
    cli: new URL('../functions/cli/main.ts', import.meta.url).pathname,
    'render-thread': new URL('../functions/local/render-thread.ts', import.meta.url).pathname,
  },
  outdir: new URL('../dist', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});
