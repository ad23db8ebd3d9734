#!/usr/bin/env node
// The CLI is TypeScript run through tsx, so a fresh clone needs no build step.
import { register } from 'tsx/esm/api';

register();
// A person reads this terminal: show warnings and errors, not every handler event.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
// The SDK's notice that its 2027 releases need Node 22 is for the maintainers (see README), not every run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { main } = await import('../functions/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
