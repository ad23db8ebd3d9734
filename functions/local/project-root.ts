import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A path inside the checkout (the example blog, say), found from wherever this code runs: its
 * source file or the CLI built into dist/. The root is the nearest folder above with a package.json.
 */
export function projectPath(relative: string): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(folder, 'package.json')) && dirname(folder) !== folder) folder = dirname(folder);
  return join(folder, relative);
}
