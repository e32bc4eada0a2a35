/**
 * Parser for the Prometheus text exposition format 0.0.4 and OpenMetrics 1.0 text
 * (../shared/reference/interop.md §2). Pure: text in, flat samples or the first error out.
 *
 * Why our own: the only npm parser (parse-prometheus-text-format 1.1.1) handles 0.0.4 only
 * (no `# EOF`, `# UNIT`, exemplars or second timestamps), groups samples prom2json-style with
 * values as strings, and reports errors without a line number.
 *
 * As in Prometheus, one bad line fails the whole scrape: the result is either every sample or
 * the first error with its 1-based line and column.
 */
import type { MetricKind } from '../../model/types.js';

export type ExpositionFormat = 'prometheus' | 'openmetrics';

/** One sample as exposed (labels as written; no target labels yet). */
export interface ExposedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** UTC milliseconds from the exposition, or undefined when the line has none. */
  timestamp: number | undefined;
  kind: MetricKind;
}

/** Why an exposition was rejected; `line` and `column` are 1-based. */
export interface ExpositionProblem {
  line: number;
  column: number;
  message: string;
}

export type ExpositionResult =
  | { ok: true; samples: ExposedSample[]; format: ExpositionFormat }
  | { ok: false; problem: ExpositionProblem; format: ExpositionFormat };

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const PROM_TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const OM_TYPES = new Set(['counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset', 'unknown']);
/** Suffixes a sample name may add to its family name (the longest match is tried first). */
const FAMILY_SUFFIXES = ['_total', '_created', '_bucket', '_count', '_sum', '_gcount', '_gsum', '_info'];
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The format a response's Content-Type announces (anything but OpenMetrics is parsed as 0.0.4, as Prometheus does). */
export function formatFromContentType(contentType: string | undefined): ExpositionFormat {
  return contentType !== undefined && /^\s*application\/openmetrics-text/i.test(contentType) ? 'openmetrics' : 'prometheus';
}

/** Parses a float as Go's strconv.ParseFloat does for exposition values (NaN, ±Inf in any case). */
export function parseFloatStrict(text: string): number | undefined {
  if (FLOAT.test(text)) return Number(text);
  switch (text.toLowerCase()) {
    case 'nan':
      return Number.NaN;
    case 'inf':
    case '+inf':
    case 'infinity':
    case '+infinity':
      return Number.POSITIVE_INFINITY;
    case '-inf':
    case '-infinity':
      return Number.NEGATIVE_INFINITY;
    default:
      return undefined;
  }
}

class LineError extends Error {
  constructor(
    readonly column: number,
    message: string,
  ) {
    super(message);
  }
}

/** Parses one exposition body. Never throws on bad input: the problem is returned as a value. */
export function parseExposition(text: string, format: ExpositionFormat): ExpositionResult {
  const parser = new ExpositionParser(format);
  const lines = text.split('\n');
  // A final "\n" leaves one empty element that is not a line.
  const count = lines.length > 0 && lines[lines.length - 1] === '' ? lines.length - 1 : lines.length;
  for (let i = 0; i < count; i++) {
    if (parser.sawEof) {
      return { ok: false, format, problem: { line: i + 1, column: 1, message: 'unexpected content after "# EOF"' } };
    }
    try {
      parser.line(lines[i]!);
    } catch (err) {
      if (!(err instanceof LineError)) throw err;
      return { ok: false, format, problem: { line: i + 1, column: err.column, message: err.message } };
    }
  }
  if (format === 'openmetrics' && !parser.sawEof) {
    return { ok: false, format, problem: { line: count + 1, column: 1, message: 'missing "# EOF" at the end of an OpenMetrics exposition' } };
  }
  return { ok: true, format, samples: parser.samples };
}

class ExpositionParser {
  readonly samples: ExposedSample[] = [];
  sawEof = false;
  private readonly types = new Map<string, string>();
  private readonly helped = new Set<string>();
  private readonly seenNames = new Set<string>();
  private readonly kindCache = new Map<string, MetricKind>();
  private readonly om: boolean;

  constructor(format: ExpositionFormat) {
    this.om = format === 'openmetrics';
  }

  line(raw: string): void {
    let start = 0;
    while (start < raw.length && (raw[start] === ' ' || raw[start] === '\t')) start++;
    if (start === raw.length) {
      if (this.om) throw new LineError(1, 'empty line (not allowed in OpenMetrics)');
      return;
    }
    if (raw[start] === '#') this.comment(raw, start);
    else this.sample(raw, start);
  }

  private comment(raw: string, start: number): void {
    const body = raw.slice(start + 1);
    if (this.om && body === ' EOF') {
      this.sawEof = true;
      return;
    }
    const m = /^[ \t]+(HELP|TYPE|UNIT)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(body);
    if (!m || (!this.om && m[1] === 'UNIT')) {
      if (this.om) throw new LineError(start + 1, 'invalid comment: OpenMetrics allows only "# HELP", "# TYPE", "# UNIT" and "# EOF"');
      return; // a plain comment in the text format
    }
    const [, keyword, name, rest = ''] = m as unknown as [string, string, string, string?];
    if (!METRIC_NAME.test(name)) throw new LineError(start + 3 + keyword.length, `invalid metric name ${JSON.stringify(name)} in # ${keyword}`);
    if (keyword === 'TYPE') {
      const type = rest.trim();
      const allowed = this.om ? OM_TYPES : PROM_TYPES;
      if (!allowed.has(type)) throw new LineError(start + 1, `invalid metric type ${JSON.stringify(type)} for ${name}`);
      if (this.types.has(name)) throw new LineError(start + 1, `second TYPE line for metric ${name}`);
      if (this.seenNames.has(name)) throw new LineError(start + 1, `TYPE line for ${name} after its samples`);
      this.types.set(name, type);
      this.kindCache.clear();
    } else if (keyword === 'HELP') {
      if (this.helped.has(name)) throw new LineError(start + 1, `second HELP line for metric ${name}`);
      this.helped.add(name);
    }
  }

  private sample(raw: string, start: number): void {
    let i = start;
    while (i < raw.length && !isNameEnd(raw.charCodeAt(i))) i++;
    const name = raw.slice(start, i);
    if (!METRIC_NAME.test(name)) throw new LineError(start + 1, `invalid metric name ${JSON.stringify(name)}`);
    const labels: Record<string, string> = {};
    if (raw[i] === '{') i = this.labels(raw, i + 1, labels);
    if (raw[i] !== ' ' && raw[i] !== '\t') throw new LineError(i + 1, i >= raw.length ? 'missing value' : `unexpected ${JSON.stringify(raw[i])} after the metric name`);
    while (raw[i] === ' ' || raw[i] === '\t') i++;
    // OpenMetrics exemplars follow " # "; they are not samples and are ignored.
    let end = raw.length;
    if (this.om) {
      const hash = raw.indexOf(' # ', i);
      if (hash >= 0) end = hash;
    }
    const fields = raw.slice(i, end).trim().split(/[ \t]+/);
    if (fields.length === 0 || fields[0] === '') throw new LineError(i + 1, 'missing value');
    if (fields.length > 2) throw new LineError(i + 1, `unexpected text after the timestamp: ${JSON.stringify(fields.slice(2).join(' '))}`);
    const value = parseFloatStrict(fields[0]!);
    if (value === undefined) throw new LineError(i + 1, `invalid value ${JSON.stringify(fields[0])}`);
    let timestamp: number | undefined;
    if (fields.length === 2) timestamp = this.timestamp(fields[1]!, raw.indexOf(fields[1]!, i) + 1);
    this.seenNames.add(name);
    this.samples.push({ name, labels, value, timestamp, kind: this.kindOf(name) });
  }

  /** Reads `name="value",...}` from `i` (just past `{`); returns the index after `}`. */
  private labels(raw: string, i: number, out: Record<string, string>): number {
    for (;;) {
      while (raw[i] === ' ' || raw[i] === '\t') i++;
      if (raw[i] === '}') return i + 1;
      const nameStart = i;
      while (i < raw.length && raw[i] !== '=' && raw[i] !== ' ' && raw[i] !== '\t' && raw[i] !== '}' && raw[i] !== ',') i++;
      const label = raw.slice(nameStart, i);
      if (!LABEL_NAME.test(label)) throw new LineError(nameStart + 1, `invalid label name ${JSON.stringify(label)}`);
      while (raw[i] === ' ' || raw[i] === '\t') i++;
      if (raw[i] !== '=') throw new LineError(i + 1, `expected "=" after label name ${label}`);
      i++;
      while (raw[i] === ' ' || raw[i] === '\t') i++;
      if (raw[i] !== '"') throw new LineError(i + 1, `expected a quoted value for label ${label}`);
      const valueStart = i;
      i++;
      let value = '';
      let chunk = i;
      for (;;) {
        if (i >= raw.length) throw new LineError(valueStart + 1, `unterminated value for label ${label}`);
        const c = raw[i];
        if (c === '"') break;
        if (c === '\\') {
          value += raw.slice(chunk, i);
          const next = raw[i + 1];
          if (next === 'n') value += '\n';
          else if (next === '\\' || next === '"') value += next;
          else if (this.om) throw new LineError(i + 1, `invalid escape "\\${next ?? ''}" in the value of label ${label}`);
          else value += `\\${next ?? ''}`; // the text format keeps unknown escapes literally
          i += 2;
          chunk = i;
          continue;
        }
        i++;
      }
      value += raw.slice(chunk, i);
      i++;
      if (Object.prototype.hasOwnProperty.call(out, label)) throw new LineError(nameStart + 1, `duplicate label ${label}`);
      out[label] = value;
      while (raw[i] === ' ' || raw[i] === '\t') i++;
      if (raw[i] === ',') {
        i++;
        continue;
      }
      if (raw[i] === '}') return i + 1;
      throw new LineError(i + 1, i >= raw.length ? 'unterminated label set' : `expected "," or "}" after the value of label ${label}`);
    }
  }

  private timestamp(text: string, column: number): number {
    if (this.om) {
      const seconds = FLOAT.test(text) ? Number(text) : Number.NaN;
      if (!Number.isFinite(seconds)) throw new LineError(column, `invalid timestamp ${JSON.stringify(text)} (OpenMetrics: seconds)`);
      return Math.round(seconds * 1000);
    }
    if (!/^-?\d+$/.test(text)) throw new LineError(column, `invalid timestamp ${JSON.stringify(text)} (integer milliseconds)`);
    const ms = Number(text);
    if (!Number.isSafeInteger(ms)) throw new LineError(column, `timestamp out of range: ${text}`);
    return ms;
  }

  /** COUNTER for the samples of a counter family (not its `_created`), GAUGE for a gauge, else UNKNOWN. */
  private kindOf(name: string): MetricKind {
    const cached = this.kindCache.get(name);
    if (cached !== undefined) return cached;
    let kind: MetricKind = 'UNKNOWN';
    const direct = this.types.get(name);
    if (direct !== undefined) {
      kind = direct === 'counter' ? 'COUNTER' : direct === 'gauge' ? 'GAUGE' : 'UNKNOWN';
    } else {
      for (const suffix of FAMILY_SUFFIXES) {
        if (!name.endsWith(suffix)) continue;
        const type = this.types.get(name.slice(0, -suffix.length));
        if (type === undefined) continue;
        if (type === 'counter') kind = suffix === '_total' ? 'COUNTER' : suffix === '_created' ? 'GAUGE' : 'UNKNOWN';
        else if (suffix === '_created') kind = 'GAUGE';
        break;
      }
    }
    this.kindCache.set(name, kind);
    return kind;
  }
}

function isNameEnd(c: number): boolean {
  return c === 0x7b /* { */ || c === 0x20 || c === 0x09;
}
