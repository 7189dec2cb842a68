// A fixed-window rate limiter kept in this process's memory: enough to blunt token guessing and form
// floods on the tenant-facing endpoints. With several api replicas each keeps its own counts (the limit
// per client is then up to replicas × limit); put a shared limiter in front for stricter needs.
export class RateLimiter {
  #windows = new Map<string, { count: number; resetAt: number }>();
  constructor(
    readonly limit: number,
    readonly windowMs: number,
    readonly maxKeys = 100_000,
  ) {}

  /** How many keys the limiter holds a window for (what its memory grows with). */
  get size(): number {
    return this.#windows.size;
  }

  /** Counts one hit for `key`; says whether it is allowed and, if not, when to come back. */
  hit(key: string, now = Date.now()): { allowed: boolean; retryAfterSeconds: number } {
    let w = this.#windows.get(key);
    if (!w || w.resetAt <= now) {
      if (this.#windows.size >= this.maxKeys) this.#sweep(now);
      w = { count: 0, resetAt: now + this.windowMs };
      this.#windows.set(key, w);
    }
    w.count += 1;
    return { allowed: w.count <= this.limit, retryAfterSeconds: Math.max(1, Math.ceil((w.resetAt - now) / 1000)) };
  }

  #sweep(now: number) {
    for (const [k, w] of this.#windows) if (w.resetAt <= now) this.#windows.delete(k);
    // Still full (a flood of distinct keys): forget the oldest rather than grow without bound.
    for (const k of this.#windows.keys()) {
      if (this.#windows.size < this.maxKeys) break;
      this.#windows.delete(k);
    }
  }
}

/**
 * Counts one hit on each limiter for its key; the first that refuses sets `Retry-After` on the reply and
 * gives the wait in seconds, else null. The caller answers the refusal in its own form (problem or page).
 */
export function refusal(reply: { header(name: string, value: string): unknown }, nowMs: number, ...checks: [RateLimiter, string][]): number | null {
  for (const [limiter, key] of checks) {
    const r = limiter.hit(key, nowMs);
    if (!r.allowed) {
      reply.header('retry-after', String(r.retryAfterSeconds));
      return r.retryAfterSeconds;
    }
  }
  return null;
}
