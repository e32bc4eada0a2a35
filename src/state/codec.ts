/** How a store turns its values into bytes for LevelDB and the changelog. */
export interface ValueCodec<V> {
  encode(value: V): Buffer;
  decode(bytes: Buffer): V;
}

/** JSON codec (the default for small state such as alert state). */
export function jsonCodec<V>(): ValueCodec<V> {
  return {
    encode: (value) => Buffer.from(JSON.stringify(value)),
    decode: (bytes) => JSON.parse(bytes.toString('utf8')) as V,
  };
}

/** Codec for numbers (8-byte float, big-endian). */
export const float64Codec: ValueCodec<number> = {
  encode(value) {
    const b = Buffer.allocUnsafe(8);
    b.writeDoubleBE(value, 0);
    return b;
  },
  decode: (bytes) => bytes.readDoubleBE(0),
};

/** Codec for raw bytes (no copy). */
export const bytesCodec: ValueCodec<Buffer> = { encode: (v) => v, decode: (b) => b };
