import { describe, expect, it } from 'vitest';
import { MemoryCounterStore } from '../../functions/adapters/memory/memory-counter-store';
import { BufferedCounterStore } from '../../functions/stats/buffered-counters';
import type { CounterIncrement, CounterStore } from '../../functions/stats/counters';

/** The memory store, with a log of the writes that reach it. */
function recordingStore(fail = false): CounterStore & { writes: CounterIncrement[][] } {
  const inner = new MemoryCounterStore();
  const writes: CounterIncrement[][] = [];
  return {
    writes,
    add: async (increments) => {
      writes.push([...increments]);
      if (fail) throw new Error('the table is gone');
      await inner.add(increments);
    },
    read: (scope) => inner.read(scope),
  };
}

describe('counters gathered before they are written (the local click redirect)', () => {
  it('writes a burst of clicks once, after the delay, and loses none', async () => {
    const store = recordingStore();
    const clicks = new BufferedCounterStore(store, 20);
    for (let click = 0; click < 200; click++) await clicks.add([{ scope: 'post#a', name: `click#${click % 3}` }]);
    expect(store.writes).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(store.writes).toHaveLength(1);
    expect(await store.read('post#a')).toEqual({ 'click#0': 67, 'click#1': 67, 'click#2': 66 });
  });

  it('shows a reader of the buffered store its own clicks at once, and writes what is pending on flush', async () => {
    const store = recordingStore();
    const clicks = new BufferedCounterStore(store, 60_000);
    await clicks.add([{ scope: 'post#a', name: 'hidden', by: 2 }]);
    expect(await clicks.read('post#a')).toEqual({ hidden: 2 });
    await clicks.add([{ scope: 'post#a', name: 'hidden' }]);
    await clicks.flush();
    expect(await store.read('post#a')).toEqual({ hidden: 3 });
    expect(store.writes).toHaveLength(2);
  });

  it('never fails a click when the store fails: the write is logged as lost', async () => {
    const store = recordingStore(true);
    const clicks = new BufferedCounterStore(store, 60_000);
    await clicks.add([{ scope: 'post#a', name: 'opens' }]);
    await expect(clicks.flush()).resolves.toBeUndefined();
    expect(store.writes).toHaveLength(1);
  });
});
