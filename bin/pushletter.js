#!/usr/bin/env node
// The CLI is TypeScript run through tsx, so a fresh clone needs no build step.
import { register } from 'tsx/esm/api';

register();
// A person reads this terminal: show warnings and errors, not every handler event.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
const { main } = await import('../functions/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
