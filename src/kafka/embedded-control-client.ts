/**
 * Client of an embedded Kafka's control endpoint, usable from any process (see embedded-beacon.ts for how
 * it is found). `ensureTopics` uses it to create topics; chaos and reliability tests use it to inject
 * faults into a `vigil stack` running in another process. Import from ./client.js.
 */
import { createKafka } from './create-kafka.js';
import { findBeacon, type EmbeddedBeacon } from './embedded-beacon.js';

/** The control endpoint answered with an error, or did not answer. */
export class EmbeddedControlError extends Error {
  readonly code = 'EMBEDDED_CONTROL';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmbeddedControlError';
  }
}

/** Remote twin of the EmbeddedKafka methods (same semantics, over HTTP). */
export interface EmbeddedControl {
  readonly incarnation: string;
  readonly url: string;
  /** Creates topics (idempotent); returns the names this call created. */
  createTopics(topics: readonly { name: string; partitions: number }[]): Promise<string[]>;
  brokerDown(id: number): Promise<void>;
  brokerUp(id: number): Promise<void>;
  setBrokerRtt(id: number, ms: number): Promise<void>;
  pushRequestErrors(apiKey: number, errors: number[]): Promise<void>;
}

/** The control endpoint of the embedded Kafka at `brokers`, or undefined for any other cluster. */
export async function connectEmbeddedControl(brokers: string | readonly string[]): Promise<EmbeddedControl | undefined> {
  const admin = createKafka(brokers, 'vigil-embedded-control').admin();
  await admin.connect();
  try {
    const beacon = findBeacon(await admin.listTopics());
    return beacon && embeddedControl(beacon);
  } finally {
    await admin.disconnect();
  }
}

/** A client for a beacon already found. */
export function embeddedControl(beacon: EmbeddedBeacon): EmbeddedControl {
  const post = async (path: string, body: unknown = {}): Promise<Record<string, unknown>> => {
    let res: Response;
    try {
      res = await fetch(`${beacon.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      throw new EmbeddedControlError(
        `the embedded Kafka's control endpoint ${beacon.url} does not answer (${(err as Error).message}); ` +
          'is the process that started it (e.g. `vigil stack`) still running?',
        { cause: err },
      );
    }
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok) throw new EmbeddedControlError(`embedded Kafka control ${path}: ${String(json.error ?? `HTTP ${res.status}`)}`);
    return json;
  };
  return {
    incarnation: beacon.incarnation,
    url: beacon.url,
    async createTopics(topics) {
      const body = await post('/topics', { topics: topics.map(({ name, partitions }) => ({ name, partitions })) });
      return (body.topics as { name: string; created: boolean }[]).filter((t) => t.created).map((t) => t.name);
    },
    brokerDown: async (id) => void (await post(`/brokers/${id}/down`)),
    brokerUp: async (id) => void (await post(`/brokers/${id}/up`)),
    setBrokerRtt: async (id, ms) => void (await post(`/brokers/${id}/rtt`, { ms })),
    pushRequestErrors: async (apiKey, errors) => void (await post('/request-errors', { apiKey, errors })),
  };
}
