/**
 * InfluxDB line protocol parser (../shared/reference/interop.md §3). Pure: the body's text and
 * the precision in, points and per-line problems out (failures as values, never thrown).
 *
 * `measurement[,tk=tv...] fk=fv[,fk=fv...] [timestamp]`, `#` comment lines and blank lines ignored.
 */

/** Timestamp precisions of the v2 API (`ns|us|ms|s`) and the v1 API (`n|u|ms|s|m|h`). */
export type Precision = 'ns' | 'us' | 'ms' | 's' | 'm' | 'h';

const PRECISION_ALIASES: Record<string, Precision> = { ns: 'ns', n: 'ns', us: 'us', u: 'us', ms: 'ms', s: 's', m: 'm', h: 'h' };
/** Units per millisecond (sub-ms precisions, divided exactly with BigInt) or milliseconds per unit. */
const DIVISOR: Record<Precision, bigint> = { ns: 1_000_000n, us: 1000n, ms: 1n, s: 1n, m: 1n, h: 1n };
const MULTIPLIER: Record<Precision, number> = { ns: 1, us: 1, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** The precision named by a query parameter (v1 and v2 spellings), or undefined when unknown. */
export function parsePrecision(param: string | undefined, api: 'v1' | 'v2'): Precision | undefined {
  if (param === undefined || param === '') return 'ns';
  const p = PRECISION_ALIASES[param];
  if (p === undefined) return undefined;
  if (api === 'v2' && (p === 'm' || p === 'h' || param === 'n' || param === 'u')) return undefined;
  return p;
}

export type FieldType = 'float' | 'integer' | 'unsigned' | 'boolean' | 'string';

export interface LineField {
  key: string;
  /** Numeric value (booleans as 1/0); NaN for strings (see `text`). */
  value: number;
  type: FieldType;
  /** The unescaped value of a string field. */
  text?: string;
}

/** One parsed line. */
export interface LinePoint {
  /** 1-based line number in the body. */
  line: number;
  measurement: string;
  tags: Record<string, string>;
  fields: LineField[];
  /** UTC milliseconds, or undefined when the line has no timestamp. */
  timestamp: number | undefined;
}

export interface LineProblem {
  line: number;
  message: string;
}

export interface LineProtocolResult {
  points: LinePoint[];
  problems: LineProblem[];
}

class BadLine extends Error {}

const BOOL_TRUE = new Set(['t', 'T', 'true', 'True', 'TRUE']);
const BOOL_FALSE = new Set(['f', 'F', 'false', 'False', 'FALSE']);
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Parses a whole body; every bad line is reported with its 1-based number. */
export function parseLineProtocol(text: string, precision: Precision): LineProtocolResult {
  const points: LinePoint[] = [];
  const problems: LineProblem[] = [];
  const scale = { divisor: DIVISOR[precision], multiplier: MULTIPLIER[precision] };
  let lineNo = 0;
  let pos = 0;
  while (pos <= text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    lineNo++;
    const line = text.slice(pos, end);
    pos = end + 1;
    let s = 0;
    while (s < line.length && (line[s] === ' ' || line[s] === '\t')) s++;
    if (s === line.length || line[s] === '#') {
      if (end === text.length) break;
      continue;
    }
    try {
      points.push(parseLine(line, s, lineNo, scale));
    } catch (err) {
      if (!(err instanceof BadLine)) throw err;
      problems.push({ line: lineNo, message: `${err.message}: ${JSON.stringify(line.length > 120 ? `${line.slice(0, 120)}...` : line)}` });
    }
    if (end === text.length) break;
  }
  return { points, problems };
}

function parseLine(line: string, start: number, lineNo: number, scale: { divisor: bigint; multiplier: number }): LinePoint {
  // Measurement: up to an unescaped comma or space.
  let i = start;
  let measurement = '';
  let chunk = i;
  for (; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && (line[i + 1] === ',' || line[i + 1] === ' ' || line[i + 1] === '\\')) {
      measurement += line.slice(chunk, i);
      chunk = i + 1;
      i++;
      continue;
    }
    if (c === ',' || c === ' ') break;
  }
  measurement += line.slice(chunk, i);
  if (measurement === '') throw new BadLine('missing measurement');
  const tags: Record<string, string> = {};
  while (line[i] === ',') {
    const key = readKey(line, i + 1, 'tag key');
    i = key.end;
    if (line[i] !== '=') throw new BadLine(`missing tag value for tag "${key.text}"`);
    const value = readKey(line, i + 1, 'tag value');
    i = value.end;
    if (value.text === '') throw new BadLine(`missing tag value for tag "${key.text}"`);
    if (Object.prototype.hasOwnProperty.call(tags, key.text)) throw new BadLine(`duplicate tag "${key.text}"`);
    tags[key.text] = value.text;
  }
  if (line[i] !== ' ') throw new BadLine(i >= line.length ? 'missing fields' : `unexpected "${line[i]}" after the tags`);
  while (line[i] === ' ') i++;
  const fields: LineField[] = [];
  const seen = new Set<string>();
  for (;;) {
    if (i >= line.length) throw new BadLine(fields.length === 0 ? 'missing fields' : 'missing field after ","');
    const key = readKey(line, i, 'field key');
    i = key.end;
    if (line[i] !== '=') throw new BadLine(`missing field value for field "${key.text}"`);
    i++;
    const field = readFieldValue(line, i, key.text);
    i = field.end;
    if (seen.has(key.text)) throw new BadLine(`duplicate field "${key.text}"`);
    seen.add(key.text);
    fields.push(field.field);
    if (line[i] === ',') {
      i++;
      continue;
    }
    break;
  }
  let timestamp: number | undefined;
  if (i < line.length) {
    if (line[i] !== ' ') throw new BadLine(`unexpected "${line[i]}" after field values`);
    while (line[i] === ' ') i++;
    let tsEnd = i;
    while (tsEnd < line.length && line[tsEnd] !== ' ' && line[tsEnd] !== '\r') tsEnd++;
    const ts = line.slice(i, tsEnd);
    let rest = tsEnd;
    while (rest < line.length && (line[rest] === ' ' || line[rest] === '\r')) rest++;
    if (rest < line.length) throw new BadLine(`unexpected text after the timestamp`);
    if (ts !== '') {
      if (!/^-?\d+$/.test(ts)) throw new BadLine(`invalid timestamp "${ts}"`);
      // Floor division (toward -Infinity) so pre-1970 sub-ms timestamps round like positive ones.
      let ms: number;
      if (scale.divisor === 1n) ms = Number(ts) * scale.multiplier;
      else {
        const big = BigInt(ts);
        const q = big / scale.divisor;
        ms = Number(big < 0n && q * scale.divisor !== big ? q - 1n : q);
      }
      if (!Number.isSafeInteger(ms)) throw new BadLine(`timestamp out of range "${ts}"`);
      timestamp = ms;
    }
  }
  return { line: lineNo, measurement, tags, fields, timestamp };
}

/** Reads a tag key, tag value or field key: up to an unescaped `,`, `=` or space. */
function readKey(line: string, i: number, what: string): { text: string; end: number } {
  let text = '';
  let chunk = i;
  for (; i < line.length; i++) {
    const c = line[i];
    if (c === '\\') {
      const n = line[i + 1];
      if (n === ',' || n === '=' || n === ' ' || n === '\\') {
        text += line.slice(chunk, i);
        chunk = i + 1;
        i++;
      }
      continue;
    }
    if (c === ',' || c === '=' || c === ' ') break;
  }
  text += line.slice(chunk, i);
  if (text === '' && what !== 'tag value') throw new BadLine(`missing ${what}`);
  return { text, end: i };
}

function readFieldValue(line: string, i: number, key: string): { field: LineField; end: number } {
  if (line[i] === '"') {
    let text = '';
    let chunk = i + 1;
    let j = i + 1;
    for (; j < line.length; j++) {
      const c = line[j];
      if (c === '\\' && (line[j + 1] === '"' || line[j + 1] === '\\')) {
        text += line.slice(chunk, j);
        chunk = j + 1;
        j++;
        continue;
      }
      if (c === '"') break;
    }
    if (j >= line.length) throw new BadLine(`unterminated string value for field "${key}"`);
    text += line.slice(chunk, j);
    return { field: { key, value: Number.NaN, type: 'string', text }, end: j + 1 };
  }
  let end = i;
  while (end < line.length && line[end] !== ',' && line[end] !== ' ') end++;
  const raw = line.slice(i, end);
  if (raw === '') throw new BadLine(`missing field value for field "${key}"`);
  const last = raw[raw.length - 1];
  if (last === 'i' || last === 'u') {
    const digits = raw.slice(0, -1);
    if (last === 'i' ? /^-?\d+$/.test(digits) : /^\d+$/.test(digits)) {
      const big = BigInt(digits);
      const inRange = last === 'i' ? big >= -(2n ** 63n) && big < 2n ** 63n : big < 2n ** 64n;
      if (!inRange) throw new BadLine(`${last === 'i' ? 'integer' : 'unsigned'} value out of range for field "${key}": ${raw}`);
      return { field: { key, value: Number(digits), type: last === 'i' ? 'integer' : 'unsigned' }, end };
    }
  }
  if (FLOAT.test(raw)) return { field: { key, value: Number(raw), type: 'float' }, end };
  if (BOOL_TRUE.has(raw)) return { field: { key, value: 1, type: 'boolean' }, end };
  if (BOOL_FALSE.has(raw)) return { field: { key, value: 0, type: 'boolean' }, end };
  throw new BadLine(`invalid value for field "${key}": ${raw}`);
}
