import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runStats } from '../../functions/cli/stats-command';

const folder = mkdtempSync(join(tmpdir(), 'pushletter-stats-command-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('pushletter stats <post file>', () => {
  it('says a post file that is not there does not exist, before reaching any stack', async () => {
    const missing = join(folder, 'nonexistent', '2024-01-01-x.md');
    await expect(runStats([missing], new PassThrough())).rejects.toMatchObject({
      code: 'POST_FILE_NOT_FOUND',
      message: `${missing}: the file does not exist; check the path, or name the post by its id (such as 2024-01-01-x)`,
    });
    await expect(runStats(['2024-01-01-x.markdown'], new PassThrough())).rejects.toMatchObject({
      code: 'POST_FILE_NOT_FOUND',
    });
  });
});
