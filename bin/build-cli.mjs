#!/usr/bin/env node
// Builds the CLI ahead (npm's `prepare` runs this on `npm install`/`npm ci`): one ESM file in
// dist/ that loads its packages from node_modules, so `pushletter` starts without compiling
// TypeScript. bin/pushletter.js runs the sources through tsx instead while they are newer.
import { build } from 'esbuild';

await build({
  entryPoints: [new URL('../functions/cli/main.ts', import.meta.url).pathname],
  outfile: new URL('../dist/cli.js', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});
