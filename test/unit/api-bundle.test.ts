import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

/**
 * The API Lambda answers readers on a cold start: it must not carry mjml (0.7 s to load) or
 * the renderer. The confirmation email comes precompiled from templates/confirm.generated.ts.
 */
describe('the API Lambda bundle', () => {
  it('leaves out mjml and the post renderer', async () => {
    const result = await build({
      entryPoints: [fileURLToPath(new URL('../../functions/lambdas/api.ts', import.meta.url))],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      write: false,
      metafile: true,
      // The Lambda runtime provides the AWS SDK.
      external: ['@aws-sdk/*'],
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((input) => input.includes('functions/http/app.ts'))).toBe(true);
    expect(inputs.some((input) => input.includes('templates/confirm.generated.ts'))).toBe(true);
    expect(
      inputs.filter((input) =>
        /node_modules\/mjml|templates\/build-confirm|functions\/render\/(email|post|markdown)/.test(input),
      ),
    ).toEqual([]);
  });
});
