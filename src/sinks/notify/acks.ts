/**
 * Acknowledgements: an ack names an alert (fingerprint) and applies to its current transition; it
 * stops repeat notifications until the alert changes transition or level (a new event id).
 */
import { RequestValidationError } from './errors.js';

export interface Ack {
  readonly fingerprint: string;
  /** The transition acknowledged. */
  readonly eventId: string;
  readonly author: string;
  readonly comment: string;
  readonly at: number;
}

/** Validates an ack request body ({fingerprint, author, comment?}); throws naming the field. */
export function parseAckRequest(body: unknown): { fingerprint: string; author: string; comment: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RequestValidationError('body', 'expected a JSON object');
  }
  const b = body as Record<string, unknown>;
  if (typeof b.fingerprint !== 'string' || b.fingerprint === '') {
    throw new RequestValidationError('fingerprint', 'expected the alert fingerprint (a non-empty string)');
  }
  if (typeof b.author !== 'string' || b.author.trim() === '') {
    throw new RequestValidationError('author', 'expected a non-empty string');
  }
  if (b.comment !== undefined && typeof b.comment !== 'string') {
    throw new RequestValidationError('comment', 'expected a string');
  }
  return { fingerprint: b.fingerprint, author: b.author, comment: (b.comment as string | undefined) ?? '' };
}

export class AckStore {
  private readonly acks = new Map<string, Ack>();

  put(ack: Ack): void {
    this.acks.set(ack.fingerprint, ack);
  }

  get(fingerprint: string): Ack | undefined {
    return this.acks.get(fingerprint);
  }

  /** True when this transition of the alert is acknowledged. */
  isAcked(fingerprint: string, eventId: string): boolean {
    return this.acks.get(fingerprint)?.eventId === eventId;
  }

  list(): Ack[] {
    return [...this.acks.values()];
  }
}
