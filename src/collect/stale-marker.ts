/**
 * Prometheus stale markers: a NaN whose payload is 2 (bits 0x7ff0000000000002). The scraper
 * publishes one for each series of a target that disappears (or of a series that vanishes from
 * a target's exposition); remote_write clients send them the same way.
 *
 * V8 may set the quiet bit when a NaN passes through a double array (0x7ff8000000000002), so
 * `isStaleMarker` ignores that bit: a consumer of `metrics` should test values with it.
 */
const buf = new DataView(new ArrayBuffer(8));

/** The stale marker value (a NaN with payload 2). */
export const STALE_NAN: number = (() => {
  buf.setBigUint64(0, 0x7ff0000000000002n);
  return buf.getFloat64(0);
})();

/** True if `value` is a stale marker (NaN with payload 2, quiet bit ignored). */
export function isStaleMarker(value: number): boolean {
  if (!Number.isNaN(value)) return false;
  buf.setFloat64(0, value);
  return (buf.getBigUint64(0) & 0x0007ffffffffffffn) === 2n;
}
