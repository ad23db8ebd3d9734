import { describe, expect, it } from 'vitest';
import type { CounterStore } from '../../functions/stats/counters';

/**
 * What every counter store answers alike: the DynamoDB store (on dynalite, sharded) and the
 * in-memory one run this suite. `make` gives each test an empty store.
 */
export function describeCounterStore(name: string, make: () => Promise<CounterStore>): void {
  describe(`${name}: counters`, () => {
    it('reads a scope nothing was added to as no counters', async () => {
      const store = await make();
      expect(await store.read('post#/never/sent/')).toEqual({});
    });

    it('adds each increment: by 1 when no amount is given, the same name twice adds twice', async () => {
      const store = await make();
      await store.add([
        { scope: 'post#/a/', name: 'sent' },
        { scope: 'post#/a/', name: 'sent', by: 39 },
        { scope: 'post#/a/', name: 'bounced.permanent', by: 2 },
      ]);
      await store.add([{ scope: 'post#/a/', name: 'sent', by: 10 }]);
      expect(await store.read('post#/a/')).toEqual({ sent: 50, 'bounced.permanent': 2 });
    });

    it('keeps scopes apart, even one whose name starts with another', async () => {
      const store = await make();
      await store.add([
        { scope: 'post#/a/', name: 'sent', by: 3 },
        { scope: 'post#/a/|1', name: 'sent', by: 5 },
        { scope: 'day#2026-06-01', name: 'signups' },
      ]);
      expect(await store.read('post#/a/')).toEqual({ sent: 3 });
      expect(await store.read('post#/a/|1')).toEqual({ sent: 5 });
      expect(await store.read('day#2026-06-01')).toEqual({ signups: 1 });
    });

    it('counts every name of a large addition, whatever characters the names hold', async () => {
      const store = await make();
      const names = Array.from({ length: 120 }, (_, index) => `click#${index}.human`);
      await store.add([
        ...names.map((name) => ({ scope: 'post#/长文/', name, by: 2 })),
        { scope: 'post#/长文/', name: '旅行 links', by: -1 },
      ]);
      const read = await store.read('post#/长文/');
      expect(Object.keys(read)).toHaveLength(121);
      expect(read['click#119.human']).toBe(2);
      expect(read['旅行 links']).toBe(-1);
    });

    it('loses no increment when many writers add at once', async () => {
      const store = await make();
      await Promise.all(
        Array.from({ length: 60 }, (_, index) =>
          store.add([
            { scope: 'post#/busy/', name: 'delivered' },
            { scope: `day#2026-06-0${(index % 3) + 1}`, name: 'delivered' },
          ]),
        ),
      );
      expect(await store.read('post#/busy/')).toEqual({ delivered: 60 });
      expect(await store.read('day#2026-06-02')).toEqual({ delivered: 20 });
    });
  });
}
