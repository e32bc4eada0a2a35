/**
 * What the collectors need from a publisher of SampleBatch records (src/kafka/publisher.ts
 * satisfies it): both the scraper and the push endpoint hand it samples grouped by source.
 */
import { PublisherBackpressureError as BackpressureError } from '../kafka/publisher.js';
import type { Sample } from '../model/types.js';

export interface SamplePublisher {
  /**
   * Queues the samples of one source for the `metrics` topic (one or more SampleBatch records
   * keyed by the source). Resolves once the publisher has taken them (it retries on its own);
   * rejects with a `BackpressureError` when it cannot take more now, and with another error
   * when the samples can never be written.
   */
  publish(source: Record<string, string>, samples: Sample[]): Promise<void>;
  /** True while the publisher is saturated: new work would be refused or wait (optional). */
  readonly saturated?: boolean;
}

/** The publisher cannot take more now; the caller should retry after `retryAfterSeconds`. */
export { BackpressureError };

/** True for errors that mean "saturated, retry later" (ours, or any error flagged retriable with that code). */
export function isBackpressure(err: unknown): err is { retryAfterSeconds?: number; message: string } {
  if (err instanceof BackpressureError) return true;
  const e = err as { code?: unknown; name?: unknown } | null;
  return !!e && (e.name === 'BackpressureError' || (typeof e.code === 'string' && /BACKPRESSURE|SATURATED/i.test(e.code)));
}
