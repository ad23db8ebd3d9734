/**
 * The `_includes/` files a post names, gathered where the post is read (the editor's folder for
 * `publish`, GitHub at the pushed commit for the webhook) so the ingest renders the includes
 * exactly as `render` does from the folder: the preview is what is sent.
 *
 * Only names written literally are followed (`{% include note.html %}`, and the includes those
 * name); a name built from variables (`{% include {{ page.box }} %}`) cannot be known before
 * rendering and stays missing, with the renderer's LIQUID_INCLUDE_MISSING warning.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** At most this many files are read per post, each at most this large, all of them at most the total. */
export const INCLUDE_LIMITS = { files: 20, fileBytes: 100 * 1024, totalBytes: 256 * 1024 };

/** `_includes/` files by their name in the include tag (`note.html`, `boxes/tip.md`). */
export type IncludedFiles = Record<string, string>;

const INCLUDE_TAG = /\{%-?\s*include\s+([^\s{}%]+)/g;

/** A name that stays inside `_includes/`: relative, no `..`, no backslashes or control characters. */
function isSafeName(name: string): boolean {
  return (
    !name.startsWith('/') &&
    !/[\\\u0000-\u001f]/.test(name) &&
    name.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..')
  );
}

/** The include names a text writes literally, in order of appearance, once each. */
export function includeNames(text: string): string[] {
  return [...new Set([...text.matchAll(INCLUDE_TAG)].map((match) => match[1]!).filter(isSafeName))];
}

export interface GatheredIncludes {
  files: IncludedFiles;
  /** Names left out, with why: missing, too large, or over the count. */
  skipped: { name: string; reason: string }[];
}

/**
 * Reads the includes `text` names, and those they name, breadth first within INCLUDE_LIMITS.
 * `read` answers the file's bytes, or undefined when it does not exist.
 */
export async function gatherIncludes(
  text: string,
  read: (name: string) => Promise<Uint8Array | undefined>,
): Promise<GatheredIncludes> {
  const files: IncludedFiles = {};
  const skipped: GatheredIncludes['skipped'] = [];
  const queue = includeNames(text);
  const seen = new Set(queue);
  let total = 0;
  let count = 0;
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (count >= INCLUDE_LIMITS.files) {
      skipped.push({ name, reason: `a post may use at most ${INCLUDE_LIMITS.files} include files` });
      continue;
    }
    count += 1;
    const bytes = await read(name);
    if (bytes === undefined) {
      skipped.push({ name, reason: 'not in _includes/' });
      continue;
    }
    if (bytes.byteLength > INCLUDE_LIMITS.fileBytes || total + bytes.byteLength > INCLUDE_LIMITS.totalBytes) {
      skipped.push({
        name,
        reason: `over ${INCLUDE_LIMITS.fileBytes / 1024} KB per file or ${INCLUDE_LIMITS.totalBytes / 1024} KB in all`,
      });
      continue;
    }
    total += bytes.byteLength;
    const content = Buffer.from(bytes).toString('utf8');
    files[name] = content;
    for (const nested of includeNames(content)) {
      if (!seen.has(nested)) {
        seen.add(nested);
        queue.push(nested);
      }
    }
  }
  return { files, skipped };
}

/** The includes `text` names, from the site folder's `_includes/` (what `render` and `publish` read). */
export function gatherIncludesFromFolder(text: string, root: string): Promise<GatheredIncludes> {
  return gatherIncludes(text, async (name) => {
    try {
      return await readFile(join(root, '_includes', name));
    } catch {
      return undefined;
    }
  });
}
