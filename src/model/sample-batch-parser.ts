/**
 * The fast path of the SampleBatch decoder: reads the Avro binary of the contract schema directly
 * (no intermediate objects), resolving each sample's series through the SeriesCache by the raw bytes
 * of its name + labels. Used only when the writer schema is the reader schema (same canonical form);
 * other writers go through avsc with a resolver (sample-batch-decoder.ts).
 *
 * Avro binary (spec 1.11): long = zigzag varint; string = long length + UTF-8; map/array = blocks of
 * (long count [, long byte size when count < 0], items), ended by a 0 count; double = 8 bytes LE;
 * enum = int index.
 */
import type avro from 'avsc';
import { MISSING, type SeriesCache, type SourceContext } from './series-cache.js';
import { setLabel } from './series.js';

/** Largest |timestamp| accepted, in ms (the range of a JavaScript Date). */
export const MAX_TIMESTAMP_MS = 8.64e15;

/** Thrown when the bytes are not a valid SampleBatch (the record becomes an `undecodable` dead letter). */
export class UndecodableError extends Error {
  readonly code = 'UNDECODABLE';
  constructor(message: string) {
    super(message);
    this.name = 'UndecodableError';
  }
}

/** Where parsed samples go: columns for the good ones, codes for the bad ones. */
export interface SampleSink {
  /** A valid sample. */
  push(ref: number, timestamp: number, value: number, kind: number): void;
  /** A bad sample: `code` < 0 is a SeriesCache problem code; TIMESTAMP_PROBLEM a bad timestamp. */
  bad(index: number, code: number): void;
}

/** `SampleSink.bad` code for a timestamp out of range. */
export const TIMESTAMP_PROBLEM = 1;

// Reader state: one parse runs at a time (synchronous), so module-level state is safe and fast.
let buf: Buffer = Buffer.alloc(0);
let pos = 0;
let end = 0;

function fail(message: string): never {
  throw new UndecodableError(message);
}

function readLong(): number {
  let b = buf[pos++]!;
  let n = b & 0x7f;
  if (b < 0x80) return (n >>> 1) ^ -(n & 1);
  let k = 7;
  do {
    b = buf[pos++]!;
    n |= (b & 0x7f) << k;
    k += 7;
  } while (b & 0x80 && k < 28);
  if (b & 0x80) {
    let f = n >>> 0;
    let fk = 268435456;
    do {
      b = buf[pos++]!;
      if (b === undefined || fk > 2 ** 63) fail('Truncated or malformed long');
      f += (b & 0x7f) * fk;
      fk *= 128;
    } while (b & 0x80);
    return (f % 2 ? -(f + 1) : f) / 2;
  }
  return (n >>> 1) ^ -(n & 1);
}

function skipString(): void {
  const n = readLong();
  if (n < 0) fail('Negative string length');
  pos += n;
  if (pos > end) fail('Truncated string');
}

function readString(): string {
  const n = readLong();
  if (n < 0 || pos + n > end) fail('Truncated string');
  const s = buf.toString('utf8', pos, pos + n);
  pos += n;
  return s;
}

/** Reads a block count (handling negative counts with their byte size). */
function blockCount(): number {
  let n = readLong();
  if (n < 0) {
    n = -n;
    readLong();
  }
  if (pos > end) fail('Truncated block');
  return n;
}

function skipStringMap(): boolean {
  let any = false;
  for (let n = blockCount(); n !== 0; n = blockCount()) {
    any = true;
    for (let i = 0; i < n; i++) {
      skipString();
      skipString();
    }
  }
  return any;
}

function readStringMap(): Record<string, string> {
  const out: Record<string, string> = {};
  for (let n = blockCount(); n !== 0; n = blockCount()) {
    for (let i = 0; i < n; i++) {
      const k = readString();
      setLabel(out, k, readString());
    }
  }
  return out;
}

/** Skips one value of some Avro type at the read position (for fields Vigil does not read). */
export type Skipper = () => void;

/**
 * How to read a writer schema that is the contract schema plus extra fields: the batch's fields in
 * writer order (`source`, `samples`, or a skipper for an extra field) and skippers for the extra
 * fields that follow `kind` in each sample. See writer-layout.ts.
 */
export interface FastLayout {
  batch: ('source' | 'samples' | Skipper)[];
  sampleExtras: Skipper[];
}

/** The contract schema's own layout. */
export const CONTRACT_LAYOUT: FastLayout = { batch: ['source', 'samples'], sampleExtras: [] };

/** Compiles a skipper for an avsc type (as parsed from a writer schema). */
export function compileSkipper(type: avro.Type, memo = new Map<avro.Type, Skipper>()): Skipper {
  const known = memo.get(type);
  if (known) return known;
  let impl: Skipper | undefined;
  // Registered before compiling children, so recursive types resolve lazily.
  const skipper: Skipper = () => impl!();
  memo.set(type, skipper);
  impl = compileSkipperImpl(type, memo);
  return impl;
}

function compileSkipperImpl(type: avro.Type, memo: Map<avro.Type, Skipper>): Skipper {
  const t = type as unknown as {
    typeName: string;
    size?: number;
    symbols?: string[];
    types?: avro.Type[];
    itemsType?: avro.Type;
    valuesType?: avro.Type;
    fields?: { type: avro.Type }[];
    underlyingType?: avro.Type;
  };
  const name = t.typeName;
  if (name === 'null') return () => undefined;
  if (name === 'boolean') return fixedSkip(1);
  if (name === 'int' || name === 'long' || name.endsWith(':long') || name === 'abstract:long') return () => void readLong();
  if (name === 'float') return fixedSkip(4);
  if (name === 'double') return fixedSkip(8);
  if (name === 'bytes' || name === 'string') return skipString;
  if (name === 'fixed') return fixedSkip(t.size!);
  if (name === 'enum') {
    const n = t.symbols!.length;
    return () => {
      const i = readLong();
      if (i < 0 || i >= n) fail(`Invalid enum index ${i}`);
    };
  }
  if (name === 'array') return blocksSkip([compileSkipper(t.itemsType!, memo)]);
  if (name === 'map') return blocksSkip([skipString, compileSkipper(t.valuesType!, memo)]);
  if (name.startsWith('union')) {
    const branches = t.types!.map((b) => compileSkipper(b, memo));
    return () => {
      const i = readLong();
      if (i < 0 || i >= branches.length) fail(`Invalid union index ${i}`);
      branches[i]!();
    };
  }
  if (name === 'record' || name === 'error') {
    const fields = t.fields!.map((f) => compileSkipper(f.type, memo));
    return () => {
      for (const f of fields) f();
    };
  }
  if (t.underlyingType) return compileSkipper(t.underlyingType, memo);
  throw new Error(`Cannot skip Avro type ${name}`);
}

function fixedSkip(n: number): Skipper {
  return () => {
    pos += n;
    if (pos > end) fail('Truncated value');
  };
}

function blocksSkip(parts: Skipper[]): Skipper {
  return () => {
    for (let n = blockCount(); n !== 0; n = blockCount()) {
      for (let i = 0; i < n; i++) {
        for (const p of parts) p();
        if (pos > end) fail('Truncated block');
      }
    }
  };
}

const latin1 = (a: number, b: number): string => (buf as unknown as { latin1Slice(a: number, b: number): string }).latin1Slice(a, b);

/**
 * Parses the Avro body `value[start..]` of a SampleBatch written with `layout`, pushing each sample
 * into `sink`. Returns the number of samples. Throws UndecodableError on malformed bytes (the sink
 * may then hold a partial record: discard it).
 */
export function parseSampleBatch(
  value: Buffer,
  start: number,
  cache: SeriesCache,
  sink: SampleSink,
  layout: FastLayout = CONTRACT_LAYOUT,
): number {
  buf = value;
  pos = start;
  end = value.length;
  try {
    let ctx: SourceContext | undefined;
    let total = 0;
    for (const step of layout.batch) {
      if (step === 'source') ctx = readSource(cache);
      else if (step === 'samples') total = readSamples(ctx!, cache, sink, layout.sampleExtras);
      else step();
    }
    if (pos !== end) fail(pos > end ? 'Truncated record' : `${end - pos} trailing bytes`);
    return total;
  } catch (err) {
    if (err instanceof UndecodableError) throw err;
    throw new UndecodableError((err as Error).message);
  } finally {
    buf = EMPTY;
  }
}

function readSource(cache: SeriesCache): SourceContext {
  const srcStart = pos;
  skipStringMap();
  const srcEnd = pos;
  return cache.source(latin1(srcStart, srcEnd), () => {
    pos = srcStart;
    const labels = readStringMap();
    pos = srcEnd;
    return labels;
  });
}

function readSamples(ctx: SourceContext, cache: SeriesCache, sink: SampleSink, extras: Skipper[]): number {
  const hasExtras = extras.length > 0;
  let index = 0;
  for (let n = blockCount(); n !== 0; n = blockCount()) {
    for (let i = 0; i < n; i++, index++) {
      const a = pos;
      skipString();
      skipStringMap();
      const b = pos;
      let ref = cache.lookup(ctx, buf, a, b);
      if (ref === MISSING) ref = missingSeries(ctx, cache, a, b);
      const timestamp = readLong();
      if (pos + 8 > end) fail('Truncated sample');
      const value = buf.readDoubleLE(pos);
      pos += 8;
      const kind = readLong();
      if (kind < 0 || kind > 2) fail(`Invalid MetricKind index ${kind}`);
      if (hasExtras) for (const skip of extras) skip();
      if (ref < 0) sink.bad(index, ref);
      else if (timestamp > MAX_TIMESTAMP_MS || timestamp < -MAX_TIMESTAMP_MS) sink.bad(index, TIMESTAMP_PROBLEM);
      else sink.push(ref, timestamp, value, kind);
    }
  }
  return index;
}

const EMPTY = Buffer.alloc(0);

function missingSeries(ctx: SourceContext, cache: SeriesCache, a: number, b: number): number {
  pos = a;
  const name = readString();
  const labels = readStringMap();
  pos = b;
  return cache.resolve(ctx, buf, a, b, name, labels);
}
