import { isSavepointError } from '../errors.js';

export interface RetryOptions {
  /** Most attempts in all, the first included. Default 10. */
  readonly attempts?: number;
  /** The first backoff's upper bound in milliseconds; it doubles per attempt. Default 2. */
  readonly baseDelayMs?: number;
  /** Backoff never exceeds this. Default 200. */
  readonly maxDelayMs?: number;
}

/**
 * Runs a read-compute-commit step until it stops failing with `VERSION_CONFLICT`, backing off with
 * full jitter (a random wait up to an exponentially growing bound) so that contenders spread out.
 * After `attempts` tries the last conflict is rethrown; every other error is rethrown at once.
 */
export async function retryOnConflict<T>(
  step: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? 10;
  const baseDelayMs = options.baseDelayMs ?? 2;
  const maxDelayMs = options.maxDelayMs ?? 200;
  for (let attempt = 1; ; attempt++) {
    try {
      return await step(attempt);
    } catch (error) {
      if (!isSavepointError(error, 'VERSION_CONFLICT') || attempt >= attempts) throw error;
      const bound = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      await new Promise((resolve) => setTimeout(resolve, Math.random() * bound));
    }
  }
}
