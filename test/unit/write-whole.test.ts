import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeWhole } from '../../functions/cli/write-whole';

const folder = mkdtempSync(join(tmpdir(), 'pushletter-write-whole-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('writeWhole', () => {
  it('writes none of the files when one of them cannot be written, and leaves older ones as they were', async () => {
    writeFileSync(join(folder, 'a.html'), 'older');
    const missing = join(folder, 'missing', 'b.txt');
    await expect(
      writeWhole(
        [
          { path: join(folder, 'a.html'), content: 'new' },
          { path: missing, content: 'new' },
        ],
        'TEST_NOT_WRITTEN',
        { option: '--out' },
      ),
    ).rejects.toMatchObject({
      code: 'TEST_NOT_WRITTEN',
      message: `cannot write ${missing}: the folder ${join(folder, 'missing')} does not exist: create it or pass another --out`,
    });
    expect(readdirSync(folder)).toEqual(['a.html']);
    expect(readFileSync(join(folder, 'a.html'), 'utf8')).toBe('older');
  });
});
