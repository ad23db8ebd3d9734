import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runReport, type SnapshotSource } from '../../functions/cli/report-command';
import { sampleSnapshot } from '../stats-snapshots';

/** `pushletter report` with its figures given: where the file goes, what it says, what it refuses. */
let folder: string;
let asked: boolean[];
const source: SnapshotSource = async (aws) => {
  asked.push(aws);
  return sampleSnapshot({ posts: 2 });
};

async function report(...args: string[]): Promise<{ code: number; printed: string }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  const code = await runReport(args, source, out);
  return { code, printed: Buffer.concat(chunks).toString('utf8') };
}

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'pushletter-report-command-'));
  asked = [];
});

afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe('pushletter report', () => {
  it('writes the page where --out says, and says what it holds and how to open it', async () => {
    const file = join(folder, 'nov.html');
    const { code, printed } = await report('--out', file);
    expect(code).toBe(0);
    expect(await readFile(file, 'utf8')).toMatch(
      /^<!doctype html>[\s\S]*Field Notes: newsletter report[\s\S]*<\/html>\n$/,
    );
    expect(printed).toMatch(/^report: 2 posts, 60 days of the list, \d+ KB\nopen file:\/\/.*\/nov\.html\n$/);
    expect(await readdir(folder)).toEqual(['nov.html']);
    expect(asked).toEqual([false]);
  });

  it('replaces an older report whole', async () => {
    const file = join(folder, 'report.html');
    await writeFile(file, 'an older report');
    await report('--out', file);
    expect(await readFile(file, 'utf8')).toContain('Field Notes: newsletter report');
    expect(await readdir(folder)).toEqual(['report.html']);
  });

  it('reads the deployed stack with --aws', async () => {
    await report('--aws', '--out', join(folder, 'report.html'));
    expect(asked).toEqual([true]);
  });

  it('says which folder is missing, and leaves nothing behind', async () => {
    const file = join(folder, 'no-such-folder', 'report.html');
    await expect(report('--out', file)).rejects.toThrow(
      `cannot write ${file}: the folder ${join(folder, 'no-such-folder')} does not exist: create it or pass another --out`,
    );
    expect(await readdir(folder)).toEqual([]);
  });

  it('takes a folder for a file name back to the editor, and leaves nothing behind', async () => {
    const target = join(folder, 'reports');
    await mkdir(target);
    await expect(report('--out', target)).rejects.toMatchObject({
      code: 'REPORT_NOT_WRITTEN',
      message: expect.stringContaining(`is a folder: pass a file name, such as --out ${join(target, 'report.html')}`),
    });
    expect(await readdir(folder)).toEqual(['reports']);
    expect(await readdir(target)).toEqual([]);
  });

  it('refuses words it does not know with the usage, before reading anything', async () => {
    await expect(report('november')).rejects.toThrow(/unexpected "november"\nusage: pushletter report \[--out/);
    await expect(report('--output', 'x.html')).rejects.toThrow(/Unknown option '--output'/);
    expect(asked).toEqual([]);
  });
});
