/** Time as the domain sees it: the system clock in production, a fixed or moved one in tests. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
