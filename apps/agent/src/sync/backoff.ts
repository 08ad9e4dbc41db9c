/**
 * Capped exponential backoff with full jitter (SECURITY.md "Agent sync"): the n-th retry
 * waits a uniformly random time in [floor, min(cap, base · 2^n)), so many agents that lost
 * AccountDB at the same moment do not come back in lockstep, and none retries in a tight loop
 * (a draw near 0 would otherwise mean an immediate retry). A server's Retry-After is a floor
 * too. The random source is injectable for tests.
 */

export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  /** The shortest wait (default 0); draws are spread uniformly above it, never piled on it. */
  minMs?: number;
  /** Upper bound for an honoured Retry-After (a server asking for a day is not obeyed). */
  maxRetryAfterMs?: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  baseMs: 2_000,
  capMs: 5 * 60_000,
  minMs: 500,
  maxRetryAfterMs: 60 * 60_000,
};

/** The ceiling of the n-th (0-based) wait: min(cap, base · 2^n). */
export function backoffCeiling(attempt: number, options: BackoffOptions): number {
  const exp = options.baseMs * 2 ** Math.min(Math.max(0, attempt), 52);
  return Math.min(options.capMs, exp);
}

/** One full-jitter wait: min + floor(random() · (ceiling − min)), random() in [0, 1). */
export function fullJitter(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const r = Math.min(Math.max(random(), 0), 1 - Number.EPSILON);
  const ceiling = backoffCeiling(attempt, options);
  const floor = Math.min(Math.max(0, options.minMs ?? 0), ceiling);
  return floor + Math.floor(r * (ceiling - floor));
}

export class Backoff {
  private attempts = 0;

  constructor(
    private readonly options: BackoffOptions = DEFAULT_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {}

  /** Failures since the last success. */
  get attempt(): number {
    return this.attempts;
  }

  /** The wait before the next try; a Retry-After (ms) is honoured as a minimum. */
  next(retryAfterMs?: number): number {
    const jitter = fullJitter(this.attempts, this.options, this.random);
    this.attempts++;
    if (retryAfterMs === undefined) return jitter;
    const floor = Math.min(retryAfterMs, this.options.maxRetryAfterMs ?? this.options.capMs);
    return Math.max(jitter, floor);
  }

  reset(): void {
    this.attempts = 0;
  }
}
