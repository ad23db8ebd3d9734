/**
 * The import graph of functions/, type-only imports included (a folder that needs another's
 * types depends on it as much as one that calls it): which folder imports which,
 * the cycles between files and between folders, and source files that share a name.
 * `npm run imports` prints it; test/unit/layers.test.ts asserts there are no cycles.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** `import … from '…'`, `export … from '…'`, `import('…')`, `vi.mock('…')`. */
const IMPORT = /(?:from\s+|import\s*\(\s*|^import\s+)'([^']+)'/gm;

/** The source file a relative specifier names (bundler resolution: no extension needed). */
function resolveSource(path: string): string | undefined {
  return [path, `${path}.ts`, join(path, 'index.ts')].find(
    (candidate) => candidate.endsWith('.ts') && existsSync(join(ROOT, candidate)),
  );
}

function sourceFiles(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

export interface ImportGraph {
  /** File → files it imports (project files only, paths relative to the checkout). */
  files: Map<string, Set<string>>;
  /** Folder → folders it imports. */
  folders: Map<string, Set<string>>;
  /** Groups of files that import each other (strongly connected, more than one file). */
  fileCycles: string[][];
  /** Groups of folders that import each other. */
  folderCycles: string[][];
  /** Base names used by more than one source file (index.ts and types.ts aside). */
  sharedNames: Map<string, string[]>;
}

export async function importGraph(): Promise<ImportGraph> {
  const files = new Map<string, Set<string>>();
  for (const file of sourceFiles('functions')) {
    const targets = new Set<string>();
    for (const [, specifier] of readFileSync(join(ROOT, file), 'utf8').matchAll(IMPORT)) {
      const target = specifier?.startsWith('.') ? resolveSource(join(dirname(file), specifier)) : undefined;
      if (target !== undefined) targets.add(target);
    }
    files.set(file, targets);
  }
  const folders = new Map<string, Set<string>>();
  for (const [from, targets] of files) {
    const folder = dirname(from);
    const set = folders.get(folder) ?? new Set<string>();
    for (const target of targets) if (dirname(target) !== folder) set.add(dirname(target));
    folders.set(folder, set);
  }
  const sharedNames = new Map<string, string[]>();
  for (const file of sourceFiles('functions')) {
    const name = basename(file);
    if (name === 'index.ts' || name === 'types.ts') continue;
    sharedNames.set(name, [...(sharedNames.get(name) ?? []), file]);
  }
  for (const [name, paths] of sharedNames) if (paths.length < 2) sharedNames.delete(name);
  return { files, folders, fileCycles: cycles(files), folderCycles: cycles(folders), sharedNames };
}

/** Tarjan's strongly connected components with more than one member. */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next++;
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node)!, index.get(target)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const graph = await importGraph();
  console.log('folders (→ what each imports):');
  for (const [folder, targets] of [...graph.folders].sort()) {
    if (folder.startsWith('functions')) console.log(`  ${folder} → ${[...targets].sort().join(', ') || '(nothing)'}`);
  }
  console.log(`folder cycles: ${graph.folderCycles.length}`);
  for (const cycle of graph.folderCycles) console.log(`  ${cycle.join(' ↔ ')}`);
  console.log(`file cycles: ${graph.fileCycles.length}`);
  for (const cycle of graph.fileCycles) console.log(`  ${cycle.join(' ↔ ')}`);
  console.log(`source files sharing a name: ${graph.sharedNames.size}`);
  for (const [name, paths] of graph.sharedNames) console.log(`  ${name}: ${paths.join(', ')}`);
}
