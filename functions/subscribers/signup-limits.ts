import type { WindowLimit } from '../commons/config';

/** A hit under the signup limits: allowed, or refused until `retryAt`. */
export type Verdict = { allowed: true } | { allowed: false; retryAt: Date };

export interface WaitingConfirmation {
  sk: string;
  subscriberId: string;
}

/** When the hits in `hits` (ascending) allow one more under every rule; undefined: now. */
export function retryTime(hits: number[], rules: readonly WindowLimit[], now: number): number | undefined {
  let retryAt: number | undefined;
  for (const rule of rules) {
    const inWindow = hits.filter((at) => at > now - rule.windowMs);
    if (inWindow.length < rule.limit) continue;
    const frees = inWindow[inWindow.length - rule.limit]! + rule.windowMs;
    retryAt = Math.max(retryAt ?? 0, frees);
  }
  return retryAt;
}

/**
 * What the signup guard and the subscription service need of the limits: sliding logs of
 * hits per client and mailbox, the hourly confirmation cap, and the confirmations waiting
 * for it. Every change is one conditional write, so concurrent signups cannot both pass.
 * DynamoDB implements it (adapters/dynamodb/signup-limit-store.ts).
 */
export interface SignupLimits {
  /** Records a hit under `rules` if they allow it. */
  hit(key: string, rules: readonly WindowLimit[]): Promise<Verdict>;
  /** Takes one of this hour's `cap` confirmation slots; false when none is left. */
  takeHourSlot(cap: number): Promise<boolean>;
  giveBackHourSlot(): Promise<void>;
  /** Queues a confirmation for when the hourly cap allows it. */
  enqueue(subscriberId: string): Promise<void>;
  /** The oldest waiting confirmations, at most `limit`. */
  waiting(limit: number): Promise<WaitingConfirmation[]>;
  /** Claims a waiting confirmation for sending; false when another sender has it. */
  claim(waiting: WaitingConfirmation): Promise<boolean>;
  release(waiting: WaitingConfirmation): Promise<void>;
  remove(waiting: WaitingConfirmation): Promise<void>;
}
