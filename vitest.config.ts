import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: integration suites start their own stand-ins on free ports; keep the load sane.
    maxWorkers: 2,
    // Handlers log every event; the tests assert behaviour, and failures speak for themselves.
    env: {
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      // EMF lines are for CloudWatch; the tests count what the stores record.
      POWERTOOLS_METRICS_DISABLED: 'true',
      // The SDK's own switch for its notice that releases after January 2027 need Node 22.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
