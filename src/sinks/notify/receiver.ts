/**
 * The receiver contract (Alertmanager's Notifier): `send` never throws for delivery problems; it
 * returns whether the failure is worth retrying. Each receiver type lives in its own folder.
 */
import type { Notification } from './notification.js';

export interface SendResult {
  /** Set when delivery failed. */
  readonly error?: Error;
  /** Whether another attempt may succeed (network errors, 429, 5xx). */
  readonly retryable: boolean;
}

export const SENT: SendResult = { retryable: false };

export interface Receiver {
  readonly name: string;
  readonly type: string;
  send(n: Notification, signal?: AbortSignal): Promise<SendResult>;
  close?(): Promise<void>;
}

export function failed(error: Error | string, retryable: boolean): SendResult {
  return { error: typeof error === 'string' ? new Error(error) : error, retryable };
}

/** Classifies an HTTP status like Alertmanager's notifiers: 5xx and 429/408 retry, other 4xx do not. */
export function httpResult(status: number, body: string, what: string): SendResult {
  if (status >= 200 && status < 300) return SENT;
  const retryable = status >= 500 || status === 429 || status === 408;
  return failed(`${what}: HTTP ${status}${body ? `: ${body.slice(0, 200)}` : ''}`, retryable);
}

/** POSTs JSON; network errors and timeouts are retryable. */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string>,
  what: string,
  signal?: AbortSignal,
): Promise<SendResult> {
  try {
    const timeout = AbortSignal.timeout(10_000);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'Vigil', ...headers },
      body: JSON.stringify(body),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    const text = await res.text();
    return httpResult(res.status, text, what);
  } catch (err) {
    return failed(`${what}: ${(err as Error).message}`, true);
  }
}
