#!/usr/bin/env node
// Runs the CLI built into dist/ by `npm install` (bin/build-cli.mjs). In a checkout whose
// sources changed since that build, it runs the sources through tsx (a development dependency)
// instead, so an edit never meets a stale build.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = `${root}dist/cli.js`;

function newestSource(folder) {
  let newest = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = `${folder}/${entry.name}`;
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function builtIsCurrent() {
  if (!existsSync(built)) return false;
  if (!existsSync(`${root}functions`)) return true;
  const builtAt = statSync(built).mtimeMs;
  return newestSource(`${root}functions`) <= builtAt && newestSource(`${root}templates`) <= builtAt;
}

// A person reads this terminal: show warnings and errors, not every handler event.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
// Metrics go to CloudWatch from the Lambdas; on one machine nobody collects them.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
// The SDK's notice that its 2027 releases need Node 22 is for the maintainers (see README), not every run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
let main;
if (builtIsCurrent()) {
  ({ main } = await import(built));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../functions/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
