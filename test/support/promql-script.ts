/**
 * Runs Prometheus' PromQL test scripts (promql/testdata/*.test, the promqltest format of
 * Prometheus 2.42's promql/test.go) against Vigil's PromQL engine: `load <step>` series with the
 * expanding notation (`1+2x10`, `_`, `stale`), `clear`, `eval[_fail|_ordered] instant at <d> <expr>`
 * with expected samples (relative tolerance 1e-6 as almostEqual). Like promql/test.go, every
 * instant evaluation is also checked in range mode (t-1m to t+1m, step 1m) at t, and with `@ t`
 * on its selectors at other evaluation times (atModifierTestCases).
 * Data goes through the real query head (src/query/head.ts).
 */
import { STALE_NAN } from '../../src/collect/stale-marker.js';
import { SeriesTable } from '../../src/model/decoded-batch.js';
import { Head } from '../../src/query/head.js';
import { QueryError } from '../../src/query/query-error.js';
import { instantQuery, instantQueryOf, rangeQuery, type PromQLOptions } from '../../src/query/promql/engine.js';
import type { Expr } from '../../src/query/promql/ast.js';
import { AT_MODIFIER_UNSAFE } from '../../src/query/promql/function-signatures.js';
import { parsePromQL } from '../../src/query/promql/parse.js';
import { parseDurationMs } from '../../src/query/promql/literals.js';
import { labelsKey, formatLabels } from '../../src/query/promql/value.js';
import { decodedBatchOf } from './decoded-batch.js';

export interface ExpectedSample {
  labels: Record<string, string>;
  value: number;
}

export type ScriptCommand =
  | { kind: 'load'; line: number; stepMs: number; series: Array<{ labels: Record<string, string>; values: Array<number | null> }> }
  | { kind: 'clear'; line: number }
  | { kind: 'eval'; line: number; expr: string; atMs: number; fail: boolean; ordered: boolean; scalar?: number; samples: ExpectedSample[] };

/** `name{a="b"}` or `{__name__="x"}`: the full label set, __name__ included. */
export function parseSeriesDesc(text: string): { labels: Record<string, string>; rest: string } {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?(\{)?/.exec(text)!;
  const labels: Record<string, string> = {};
  if (m[1]) labels.__name__ = m[1];
  let pos = m[1]?.length ?? 0;
  if (m[2]) {
    pos++;
    const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:\\.|[^"\\])*)"\s*,?/y;
    for (;;) {
      const close = /\s*\}/y;
      close.lastIndex = pos;
      if (close.exec(text)) {
        pos = close.lastIndex;
        break;
      }
      re.lastIndex = pos;
      const lm = re.exec(text);
      if (!lm) throw new Error(`bad series description: ${text}`);
      labels[lm[1]!] = JSON.parse(`"${lm[2]!}"`) as string;
      pos = re.lastIndex;
    }
  }
  return { labels, rest: text.slice(pos).trim() };
}

function parseNumber(s: string): number {
  const t = s.toLowerCase();
  if (t === 'inf' || t === '+inf') return Infinity;
  if (t === '-inf') return -Infinity;
  if (t === 'nan') return NaN;
  const n = Number(s);
  if (Number.isNaN(n)) throw new Error(`bad number ${s}`);
  return n;
}

/** The values notation of ParseSeriesDesc: repeated additions, as Prometheus' lexer does. */
export function parseValues(text: string): Array<number | null> {
  const out: Array<number | null> = [];
  for (const tok of text.split(/\s+/).filter(Boolean)) {
    if (tok === '_') out.push(null);
    else if (tok === 'stale') out.push(STALE_NAN);
    else if (/^_x\d+$/.test(tok)) for (let i = 0; i < Number(tok.slice(2)); i++) out.push(null);
    else {
      const m = /^([-+]?[^-+x]+?)(?:([-+])([^x]+))?x(\d+)$/.exec(tok);
      if (m) {
        let k = parseNumber(m[1]!);
        const step = m[2] ? (m[2] === '-' ? -1 : 1) * parseNumber(m[3]!) : 0;
        for (let i = 0; i <= Number(m[4]); i++) {
          out.push(k);
          k += step;
        }
      } else out.push(parseNumber(tok));
    }
  }
  return out;
}

const EVAL = /^eval(?:_(fail|ordered))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$/;

export function parseScript(input: string): ScriptCommand[] {
  const lines = input.split('\n').map((l) => (l.trim().startsWith('#') ? '' : l.trim()));
  const cmds: ScriptCommand[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l === '') continue;
    if (l.toLowerCase() === 'clear') cmds.push({ kind: 'clear', line: i + 1 });
    else if (l.startsWith('load')) {
      const stepMs = parseDurationMs(l.split(/\s+/)[1]!)!;
      const cmd: ScriptCommand = { kind: 'load', line: i + 1, stepMs, series: [] };
      while (i + 1 < lines.length && lines[i + 1] !== '') {
        const { labels, rest } = parseSeriesDesc(lines[++i]!);
        cmd.series.push({ labels, values: parseValues(rest) });
      }
      cmds.push(cmd);
    } else if (l.startsWith('eval')) {
      const m = EVAL.exec(l);
      if (!m) throw new Error(`line ${i + 1}: bad eval: ${l}`);
      const cmd: ScriptCommand = { kind: 'eval', line: i + 1, expr: m[3]!, atMs: parseDurationMs(m[2] ?? '0s')!, fail: m[1] === 'fail', ordered: m[1] === 'ordered', samples: [] };
      while (i + 1 < lines.length && lines[i + 1] !== '') {
        const def = lines[++i]!;
        if (/^[-+]?(\d|\.\d|Inf|NaN|inf|nan)/.test(def) && !def.includes('{')) {
          cmd.scalar = parseNumber(def);
          break;
        }
        const { labels, rest } = parseSeriesDesc(def);
        cmd.samples.push({ labels, value: parseValues(rest)[0]! });
      }
      cmds.push(cmd);
    } else throw new Error(`line ${i + 1}: invalid command ${l}`);
  }
  return cmds;
}

/** Prometheus' almostEqual: relative tolerance 1e-6, NaN equals NaN. */
export function almostEqual(a: number, b: number): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  const diff = Math.abs(a - b);
  const minNormal = 2.2250738585072014e-308;
  if (a === 0 || b === 0 || diff < minNormal) return diff < 1e-6 * minNormal;
  return diff / (Math.abs(a) + Math.abs(b)) < 1e-6;
}

function compare(cmd: Extract<ScriptCommand, { kind: 'eval' }>, got: Array<{ metric: Record<string, string>; value: number }> | number, ordered: boolean): string | null {
  if (typeof got === 'number') {
    if (cmd.scalar === undefined) return `expected a vector, got scalar ${got}`;
    return almostEqual(cmd.scalar, got) ? null : `expected scalar ${cmd.scalar}, got ${got}`;
  }
  if (cmd.scalar !== undefined) return `expected scalar ${cmd.scalar}, got a vector of ${got.length}`;
  const expected = new Map(cmd.samples.map((s, i) => [labelsKey(s.labels), { ...s, pos: i }]));
  const seen = new Set<string>();
  for (const [pos, s] of got.entries()) {
    const k = labelsKey(s.metric);
    const e = expected.get(k);
    if (!e) return `unexpected metric ${formatLabels(s.metric)} in result (value ${s.value})`;
    if (ordered && e.pos !== pos) return `expected ${formatLabels(s.metric)} at position ${e.pos + 1}, was at ${pos + 1}`;
    if (!almostEqual(e.value, s.value)) return `expected ${e.value} for ${formatLabels(s.metric)}, got ${s.value}`;
    seen.add(k);
  }
  for (const [k, e] of expected) if (!seen.has(k)) return `expected metric ${formatLabels(e.labels)} with ${e.value} not found`;
  return null;
}

/**
 * promql/test.go's atModifierTestCases: `expr` with `@ t` on every selector and subquery that has
 * no @ (not inside a subquery that has one), or null when a function depends on the evaluation time.
 */
export function withAtModifiers(text: string, atMs: number): Expr | null {
  const e = parsePromQL(text);
  let unsafe = false;
  const walk = (n: Expr, underAt: boolean): void => {
    switch (n.kind) {
      case 'vector':
        if (!underAt && !n.at) n.at = { ms: atMs };
        return;
      case 'matrix':
        return walk(n.selector, underAt);
      case 'subquery':
        if (!underAt && !n.at) n.at = { ms: atMs };
        return walk(n.expr, true);
      case 'call':
        if (AT_MODIFIER_UNSAFE.has(n.func)) unsafe = true;
        return n.args.forEach((a) => walk(a, underAt));
      case 'aggregate':
        if (n.param) walk(n.param, underAt);
        return walk(n.expr, underAt);
      case 'binary':
        walk(n.lhs, underAt);
        return walk(n.rhs, underAt);
      case 'unary':
      case 'paren':
      case 'step-invariant':
        return walk(n.expr, underAt);
      default:
        return;
    }
  };
  walk(e, false);
  return unsafe ? null : e;
}

/** What one eval command did: null when it passed, else why it did not; `unsupported` for a 422. */
export interface EvalOutcome {
  failure: string | null;
  unsupported?: string;
}

/** Holds the loaded data of a script and runs its eval commands one by one. */
export class ScriptRunner {
  private head = new Head({ retentionMs: Number.MAX_SAFE_INTEGER });
  private table = new SeriesTable();
  constructor(private readonly options: Omit<PromQLOptions, 'deadline'> = { maxSeries: 1e6, maxSamples: 50_000_000 }) {}

  clear(): void {
    this.head = new Head({ retentionMs: Number.MAX_SAFE_INTEGER });
    this.table = new SeriesTable();
  }

  load(cmd: Extract<ScriptCommand, { kind: 'load' }>): void {
    for (const s of cmd.series) {
      const { __name__: name, ...labels } = s.labels;
      const samples: Array<[number, number]> = [];
      s.values.forEach((v, i) => {
        if (v !== null) samples.push([i * cmd.stepMs, v]);
      });
      this.head.append(decodedBatchOf(this.table, [{ name: name!, labels, samples }]));
    }
  }

  async eval(cmd: Extract<ScriptCommand, { kind: 'eval' }>): Promise<EvalOutcome> {
    const o = { ...this.options, deadline: Date.now() + 60_000 };
    let instant;
    try {
      instant = await instantQuery(cmd.expr, cmd.atMs, this.head, o);
    } catch (err) {
      if (err instanceof QueryError && err.code === 'QUERY_UNSUPPORTED') return { failure: null, unsupported: err.message };
      if (cmd.fail) return { failure: null };
      return { failure: `error evaluating ${cmd.expr}: ${(err as Error).message}` };
    }
    if (cmd.fail) return { failure: `expected an error evaluating ${cmd.expr}, got none` };
    const got = instant.resultType === 'scalar' ? instant.result[1] : instant.resultType === 'vector' ? instant.result.map((s) => ({ metric: s.metric, value: s.value[1] })) : null;
    if (got === null) return { failure: `unexpected ${instant.resultType} result` };
    const instantFailure = compare(cmd, got, cmd.ordered);
    if (instantFailure) return { failure: `instant: ${instantFailure}` };
    // The same query with @ <t> on its selectors gives the same answer at any evaluation time.
    const pinned = withAtModifiers(cmd.expr, cmd.atMs);
    if (pinned) {
      const ts = cmd.atMs === 0 ? [-1000, 0, 1000] : [-10 * cmd.atMs, 0, cmd.atMs / 5, cmd.atMs, 10 * cmd.atMs];
      for (const t of ts) {
        const r = await instantQueryOf(withAtModifiers(cmd.expr, cmd.atMs)!, t, this.head, o).catch((err: Error) => err);
        if (r instanceof Error) return { failure: `@ ${cmd.atMs / 1000} evaluated at ${t / 1000}: ${r.message}` };
        const v = r.resultType === 'scalar' ? r.result[1] : r.resultType === 'vector' ? r.result.map((s) => ({ metric: s.metric, value: s.value[1] })) : null;
        if (v === null) return { failure: `@: unexpected ${r.resultType} result` };
        const f = compare(cmd, v, cmd.ordered);
        if (f) return { failure: `@ ${cmd.atMs / 1000} evaluated at ${t / 1000}: ${f}` };
      }
    }
    if (cmd.ordered) return { failure: null };
    const range = await rangeQuery(cmd.expr, cmd.atMs - 60_000, cmd.atMs + 60_000, 60_000, this.head, o).catch((err: Error) => err);
    if (range instanceof Error) return { failure: `range mode: ${range.message}` };
    const atT: Array<{ metric: Record<string, string>; value: number }> = [];
    if (range.resultType === 'matrix') {
      for (const s of range.result) for (const [t, v] of s.values) if (t === cmd.atMs) atT.push({ metric: s.metric, value: v });
    }
    const rangeFailure = compare(cmd, instant.resultType === 'scalar' ? (atT[0]?.value ?? NaN) : atT, false);
    return { failure: rangeFailure ? `range mode: ${rangeFailure}` : null };
  }
}
