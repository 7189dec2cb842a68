// Polling for tests of asynchronous workers: wait until something a user would see has happened,
// instead of sleeping for a guessed time.

export interface WaitUntilOptions {
  /** Default 15000. */
  timeoutMs?: number;
  /** Default 50. */
  intervalMs?: number;
  /** What was awaited, said in the error on timeout. */
  message?: string;
}

/**
 * Calls `fn` until it returns a value other than undefined, null or false, and resolves with it.
 * A throw counts as "not yet" (the row may not exist yet); the last error is reported on timeout.
 */
export async function waitUntil<T>(
  fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  { timeoutMs = 15000, intervalMs = 50, message = 'condition' }: WaitUntilOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined && value !== null && value !== false) return value;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? `; last error: ${lastError.message}` : lastError === undefined ? '' : `; last error: ${String(lastError)}`;
      throw new Error(`waitUntil timed out after ${timeoutMs} ms: ${message}${cause}`, lastError === undefined ? undefined : { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
