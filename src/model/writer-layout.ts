/**
 * Decides whether a writer schema can take the decoder's fast path: it must be the contract
 * SampleBatch plus extra fields, i.e. `source` before `samples` at batch level (extra fields
 * anywhere), and each Sample starting with the contract's five fields, same types, same order, with
 * extra fields only after `kind`. Appending optional fields (the usual schema evolution) qualifies;
 * anything else (missing, reordered or retyped fields) returns null and goes through avsc.
 */
import type avro from 'avsc';
import { compileSkipper, type FastLayout, type Skipper } from './sample-batch-parser.js';

interface RecordLike {
  name?: string;
  typeName: string;
  fields: { name: string; type: avro.Type }[];
  itemsType?: avro.Type;
}

const SAMPLE_FIELDS = ['name', 'labels', 'timestamp', 'value', 'kind'];

const canonical = (t: avro.Type): string => JSON.stringify(t.schema());

/** The fast layout of `writer` against the contract `reader`, or null when it has none. */
export function fastLayout(writer: avro.Type, reader: avro.Type): FastLayout | null {
  const w = writer as unknown as RecordLike;
  const r = reader as unknown as RecordLike;
  if (w.typeName !== 'record' || w.name !== r.name) return null;
  const readerField = (name: string): avro.Type => r.fields.find((f) => f.name === name)!.type;
  const memo = new Map<avro.Type, Skipper>();
  const batch: FastLayout['batch'] = [];
  let sampleExtras: Skipper[] | null = null;
  for (const f of w.fields) {
    if (f.name === 'source') {
      if (canonical(f.type) !== canonical(readerField('source')) || sampleExtras !== null) return null;
      batch.push('source');
    } else if (f.name === 'samples') {
      if (!batch.includes('source')) return null;
      sampleExtras = sampleLayout(f.type, readerField('samples'), memo);
      if (sampleExtras === null) return null;
      batch.push('samples');
    } else {
      batch.push(compileSkipper(f.type, memo));
    }
  }
  return sampleExtras === null ? null : { batch, sampleExtras };
}

/** Skippers for the writer Sample's extra fields, or null when its first five fields differ. */
function sampleLayout(writerArray: avro.Type, readerArray: avro.Type, memo: Map<avro.Type, Skipper>): Skipper[] | null {
  const wa = writerArray as unknown as RecordLike;
  const ra = readerArray as unknown as RecordLike;
  if (wa.typeName !== 'array') return null;
  const ws = wa.itemsType as unknown as RecordLike;
  const rs = ra.itemsType as unknown as RecordLike;
  if (ws.typeName !== 'record' || ws.name !== rs.name || ws.fields.length < SAMPLE_FIELDS.length) return null;
  for (let i = 0; i < SAMPLE_FIELDS.length; i++) {
    const wf = ws.fields[i]!;
    if (wf.name !== SAMPLE_FIELDS[i] || canonical(wf.type) !== canonical(rs.fields[i]!.type)) return null;
  }
  return ws.fields.slice(SAMPLE_FIELDS.length).map((f) => compileSkipper(f.type, memo));
}
