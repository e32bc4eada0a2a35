/**
 * The retry stage: calls a receiver until it succeeds, fails with a non-retryable error, or runs out
 * of attempts. Backoff is exponential with full jitter (delay in [0, min(max, base * 2^n)]).
 */
import type { SendResult } from './receiver.js';

export interface RetryOptions {
  readonly maxAttempts: number;
  readonly baseMs: number;
  readonly maxMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { maxAttempts: 6, baseMs: 500, maxMs: 30_000 };

export type DeliveryOutcome =
  | { readonly ok: true; readonly attempts: number }
  | { readonly ok: false; readonly attempts: number; readonly reason: string };

export interface RetryDeps {
  sleep(ms: number): Promise<void>;
  random(): number;
  onRetry?(attempt: number, error: Error, delayMs: number): void;
}

export function backoffDelay(attempt: number, o: RetryOptions, random: () => number): number {
  const cap = Math.min(o.maxMs, o.baseMs * 2 ** (attempt - 1));
  return Math.floor(random() * cap);
}

/**
 * Runs `attempt` (one send) until it succeeds or the retries are exhausted. The caller decides what
 * one attempt includes (e.g. the send plus recording it, under a lock).
 */
export async function sendWithRetry(attemptOnce: () => Promise<SendResult>, options: RetryOptions, deps: RetryDeps): Promise<DeliveryOutcome> {
  for (let attempt = 1; ; attempt++) {
    const r = await attemptOnce();
    if (!r.error) return { ok: true, attempts: attempt };
    if (!r.retryable) return { ok: false, attempts: attempt, reason: `not retryable: ${r.error.message}` };
    if (attempt >= options.maxAttempts) {
      return { ok: false, attempts: attempt, reason: `gave up after ${attempt} attempts: ${r.error.message}` };
    }
    const delay = backoffDelay(attempt, options, deps.random);
    deps.onRetry?.(attempt, r.error, delay);
    await deps.sleep(delay);
  }
}
