/** Basic serdes for topologies (the registry-aware Avro serde lives in src/model). */
import type { Serde } from './api.js';
import { TopologyError } from './api.js';

export const stringSerde: Serde<string | null> = {
  serialize: (v) => (v === null || v === undefined ? null : Buffer.from(v, 'utf8')),
  deserialize: (b) => (b === null ? null : b.toString('utf8')),
};

export const bufferSerde: Serde<Buffer | null> = {
  serialize: (v) => v,
  deserialize: (b) => b,
};

/** JSON values; a record that is not JSON throws (the source sends it to the DLQ). */
export function jsonSerde<T>(): Serde<T> {
  return {
    serialize: (v) => (v === null || v === undefined ? null : Buffer.from(JSON.stringify(v))),
    deserialize: (b) => {
      if (b === null) return null as T;
      try {
        return JSON.parse(b.toString('utf8')) as T;
      } catch (err) {
        throw new TopologyError(`Value is not JSON: ${(err as Error).message}`, 'UNDECODABLE');
      }
    },
  };
}
