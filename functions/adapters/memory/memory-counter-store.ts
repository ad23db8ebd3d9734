import type { CounterIncrement, CounterStore } from '../../stats/counters';

/** Counters in memory, for unit tests and the in-memory services. */
export class MemoryCounterStore implements CounterStore {
  private readonly scopes = new Map<string, Map<string, number>>();

  async add(increments: readonly CounterIncrement[]): Promise<void> {
    for (const { scope, name, by = 1 } of increments) {
      const counters = this.scopes.get(scope) ?? new Map<string, number>();
      counters.set(name, (counters.get(name) ?? 0) + by);
      this.scopes.set(scope, counters);
    }
  }

  async read(scope: string): Promise<Record<string, number>> {
    return Object.fromEntries(this.scopes.get(scope) ?? []);
  }
}
