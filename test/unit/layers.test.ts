import { describe, expect, it } from 'vitest';
import { importGraph } from '../import-graph';

/** The shape README's "How it is built" promises, checked on every run (`npm run imports` prints it). */
describe('the folders of functions/', () => {
  it('import one way: no folder imports one that imports it back, no file cycles', async () => {
    const graph = await importGraph();
    expect(graph.folderCycles).toEqual([]);
    expect(graph.fileCycles).toEqual([]);
  });

  it('keep the domain free of adapters, wiring and entries', async () => {
    const graph = await importGraph();
    const domain = [
      'contract',
      'commons',
      'render',
      'mail',
      'subscribers',
      'delivery',
      'feedback',
      'publishing',
      'digest',
      'http',
      'stats',
    ];
    const outer = ['adapters', 'wiring', 'local', 'lambdas', 'cli'];
    const crossings = [...graph.folders].flatMap(([folder, targets]) =>
      domain.includes(folder.split('/')[1] ?? '')
        ? [...targets]
            .filter((target) => outer.includes(target.split('/')[1] ?? ''))
            .map((target) => `${folder} → ${target}`)
        : [],
    );
    expect(crossings).toEqual([]);
  });

  it('have no two source files of one name (index.ts and types.ts aside)', async () => {
    expect([...(await importGraph()).sharedNames.keys()]).toEqual([]);
  });
});
