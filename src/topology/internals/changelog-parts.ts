/**
 * Changelog records of one store entry. A value too large for one Kafka record (the topic's
 * `max.message.bytes`, config `kafka.maxMessageBytes`) is written as parts under their own keys:
 *
 *   `\0part\0<i>\0<store>\0<key>`   part i; part 0 starts with the part count (u32 BE)
 *
 * parts 0..n-1 in order, after which the entry's value is their concatenation (see
 * ChangelogRestorer). Parts left over from a longer earlier value are tombstoned when the writer knows
 * how many there were, so compaction can drop them; a stale part is never reassembled anyway, since
 * every new value starts again at part 0. The task's storage (LevelDB) keeps whole values.
 */

export const PART_PREFIX = '\u0000part\u0000';

/** Bytes of a record kept free for its key, headers and the batch framing. */
const RECORD_SLACK = 4096;

export interface ChangelogRecord {
  key: Buffer;
  value: Buffer | null;
}

/** How many parts a value of `length` bytes under `storeAndKey` needs (1 = a whole record). */
export function partCount(storeAndKey: string, length: number, maxRecordBytes: number): number {
  const room = partRoom(storeAndKey, maxRecordBytes);
  return length <= room ? 1 : Math.ceil((length + 4) / room);
}

function partRoom(storeAndKey: string, maxRecordBytes: number): number {
  return Math.max(1024, maxRecordBytes - RECORD_SLACK - 2 * Buffer.byteLength(storeAndKey) - PART_PREFIX.length - 12);
}

const partKey = (i: number, storeAndKey: string) => Buffer.from(`${PART_PREFIX}${i}\u0000${storeAndKey}`);

/**
 * The records that write `value` (null = delete) for `storeAndKey` (`<store>\0<key>`), given how many
 * parts its previous value had (0 or 1 = none).
 */
export function changelogRecords(storeAndKey: string, value: Buffer | null, maxRecordBytes: number, previousParts = 0): ChangelogRecord[] {
  const n = value === null ? 1 : partCount(storeAndKey, value.length, maxRecordBytes);
  const out: ChangelogRecord[] = [];
  if (n === 1) out.push({ key: Buffer.from(storeAndKey), value });
  else {
    const room = partRoom(storeAndKey, maxRecordBytes);
    const head = Buffer.allocUnsafe(4);
    head.writeUInt32BE(n, 0);
    const whole = Buffer.concat([head, value!]);
    for (let i = 0; i < n; i++) out.push({ key: partKey(i, storeAndKey), value: whole.subarray(i * room, (i + 1) * room) });
  }
  // Parts of the previous value that this one does not overwrite.
  if (previousParts > 1) for (let i = n === 1 ? 0 : n; i < previousParts; i++) out.push({ key: partKey(i, storeAndKey), value: null });
  return out;
}

/** Reassembles parts read in offset order; `add` returns the completed `<store>\0<key>` and value. */
export class PartAssembler {
  private readonly open = new Map<string, { n: number; parts: Buffer[] }>();

  /** `key` without PART_PREFIX; a tombstone (null) is ignored. */
  add(key: string, value: Buffer | null): [string, Buffer] | null {
    if (value === null) return null;
    const sep = key.indexOf('\u0000');
    const i = Number(key.slice(0, sep));
    const storeAndKey = key.slice(sep + 1);
    if (i === 0) {
      this.open.set(storeAndKey, { n: value.readUInt32BE(0), parts: [value.subarray(4)] });
    } else {
      const a = this.open.get(storeAndKey);
      if (!a || a.parts.length !== i) return null; // a stale part of an older value
      a.parts.push(value);
    }
    const a = this.open.get(storeAndKey)!;
    if (a.parts.length < a.n) return null;
    this.open.delete(storeAndKey);
    return [storeAndKey, Buffer.concat(a.parts)];
  }

  /** Entries whose parts began but did not complete. */
  incomplete(): string[] {
    return [...this.open.keys()];
  }
}
