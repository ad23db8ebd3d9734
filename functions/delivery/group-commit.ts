/**
 * Group commit: callers that ask while one write is in flight go together in the next, so a
 * busy sender makes one DynamoDB request for many recipients and an idle one still writes each
 * at once. Nobody waits for company beyond the current turn of the event loop: a write starts
 * as soon as the previous one ends.
 */
export class GroupCommit<Item, Result> {
  private waiting: { item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }[] = [];
  private writing = false;

  /** `write` gets up to `limit` items and answers one result per item, in order. */
  constructor(
    private readonly limit: number,
    private readonly write: (items: Item[]) => Promise<Result[]>,
  ) {}

  add(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (!this.writing) {
        this.writing = true;
        // Callers arriving in the same turn of the event loop (workers woken together) share the first write.
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.waiting.length > 0) {
      const group = this.waiting.splice(0, this.limit);
      try {
        const results = await this.write(group.map((entry) => entry.item));
        for (const [index, entry] of group.entries()) entry.resolve(results[index]!);
      } catch (error) {
        for (const entry of group) entry.reject(error ?? new Error('group write failed'));
      }
    }
    this.writing = false;
  }
}
