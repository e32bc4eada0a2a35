/**
 * Writes dead letters to the dead-letter topic (`metrics.dlq` by default) and counts them in
 * `vigil_dlq_records_total{reason}` (records written) and `vigil_dlq_samples_total{reason}` (bad
 * samples they cover; a record-level letter counts its whole record as one).
 *
 * A dead letter is the original record (key and value bytes unchanged) with headers:
 * `vigil.reason` (DeadLetterReason), `vigil.topic`, `vigil.partition`, `vigil.offset` (where it came
 * from), `vigil.error` (human-readable detail) and, for sample-level reasons, `vigil.samples`: the
 * comma-separated 0-based indexes of the bad samples in the record's `samples` array.
 */
import { counter } from '../obs/metrics.js';
import type { DeadLetter } from './decoded-batch.js';

/** The part of a kafkajs Producer the writer uses (wired by the caller; the model imports no client). */
export interface MessageProducer {
  send(record: {
    topic: string;
    acks?: number;
    messages: { key: Buffer | string | null; value: Buffer | string | null; headers: Record<string, string> }[];
  }): Promise<unknown>;
}

/** The Kafka message of a dead letter (see the module comment for the headers). */
export function deadLetterMessage(letter: DeadLetter): {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
} {
  const headers: Record<string, string> = {
    'vigil.reason': letter.reason,
    'vigil.topic': letter.origin.topic,
    'vigil.partition': String(letter.origin.partition),
    'vigil.offset': letter.origin.offset,
    'vigil.error': letter.message,
  };
  if (letter.sampleIndexes.length > 0) headers['vigil.samples'] = letter.sampleIndexes.join(',');
  return { key: letter.origin.key, value: letter.value, headers };
}

export interface DeadLetterWriterOptions {
  producer: MessageProducer;
  /** Default `metrics.dlq`. */
  topic?: string;
}

export class DeadLetterWriter {
  readonly topic: string;
  private readonly producer: MessageProducer;
  private readonly records = counter('vigil_dlq_records_total', 'Records written to a dead-letter topic, by reason', ['reason']);
  private readonly samples = counter('vigil_dlq_samples_total', 'Bad samples (or whole bad records) sent to a dead-letter topic, by reason', ['reason']);

  constructor(options: DeadLetterWriterOptions) {
    this.producer = options.producer;
    this.topic = options.topic ?? 'metrics.dlq';
  }

  /** Writes `letters` (acks=all) and counts them once acknowledged. Rejects if the producer fails. */
  async write(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    await this.producer.send({ topic: this.topic, acks: -1, messages: letters.map(deadLetterMessage) });
    for (const l of letters) {
      this.records.inc({ reason: l.reason });
      this.samples.inc({ reason: l.reason }, Math.max(1, l.sampleIndexes.length));
    }
  }
}
