/**
 * Aggregate counters: numbers about posts and the list, never about one reader. What counts
 * (SES feedback, the click redirect, signups) adds increments; `stats` and `report` read them.
 *
 * A scope names what is counted: `post#<post id>` for one post's figures, `day#YYYY-MM-DD`
 * for the list on one day (site timezone). Names within a scope are short words: `sent`,
 * `delivered`, `bounced.permanent`, `click#3.human`, …
 */
export interface CounterIncrement {
  scope: string;
  name: string;
  /** Defaults to 1. */
  by?: number;
}

export interface CounterStore {
  /** Adds the increments; the same scope and name given twice adds twice. */
  add(increments: readonly CounterIncrement[]): Promise<void>;
  /** Every counter of one scope, summed over however it is stored. Absent names are 0. */
  read(scope: string): Promise<Record<string, number>>;
}
