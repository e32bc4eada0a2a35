/**
 * `vigil rules test`: runs promtool-style YAML rule tests (contract: rules-language.md, "Tooling
 * contract") on the production rules topology, in the in-process TopologyTestDriver with a
 * simulated clock. Input series start at t=0 spaced by `interval`; `at: T` checks the state after
 * stream time was advanced to T + grace (the largest grace of the loaded rules), i.e. after every
 * window ending at or before T was evaluated.
 *
 * Extensions (documented in docs/rules-language.md): per-series `delay` (samples arrive that much
 * after their timestamp: late data), `reloads` (swap rule files at a time), `expect_events` (the
 * exact list of alert events), and promtool's `alert_rule_test` for translated tests.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { checkRulesFiles, formatRuleError } from '../dsl/index.js';
import type { CheckedRules } from '../dsl/model.js';
import { parseDurationMs, formatDuration } from '../dsl/duration.js';
import { TopologyTestDriver } from '../topology/test-driver.js';
import { jsonSerde, stringSerde } from '../topology/serdes.js';
import type { AlertEvent, SampleBatch, Sample } from '../model/types.js';
import { RulesModule } from './rules-processor.js';
import { buildRulesTopology, jsonSampleBatchDecoder } from './rules-topology.js';
import { parseSeries, parseValues } from './series-notation.js';
import type { AlertView } from './engine.js';

export interface TestCaseResult {
  name: string;
  failures: string[];
}

export interface RulesTestFileResult {
  file: string;
  /** Problems that stop the whole file (bad YAML, rules that do not check). */
  errors: string[];
  tests: TestCaseResult[];
}

type Obj = Record<string, unknown>;

class TestFileError extends Error {}

function asObj(v: unknown, where: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TestFileError(`${where}: expected a mapping`);
  return v as Obj;
}

function asList(v: unknown, where: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new TestFileError(`${where}: expected a list`);
  return v;
}

function duration(v: unknown, where: string): number {
  if (typeof v === 'number' && v === 0) return 0;
  if (typeof v === 'string' && v.trim() === '0') return 0;
  const ms = typeof v === 'string' ? parseDurationMs(v.trim()) : NaN;
  if (!Number.isFinite(ms)) throw new TestFileError(`${where}: expected a duration like 5m, got ${JSON.stringify(v)}`);
  return ms;
}

function stringMap(v: unknown, where: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  const o = asObj(v, where);
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, String(x)]));
}

interface Expectation {
  at: number;
  alert: string;
  state: 'inactive' | 'pending' | 'firing' | 'resolved';
  level: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  where: string;
}

interface EventExpectation {
  alert: string;
  transition: string;
  at: number | null;
  level: string | null;
  labels: Record<string, string>;
}

function loadRules(files: string[], base: string): CheckedRules {
  const result = checkRulesFiles(files.map((f) => resolve(base, f)));
  if (result.errors.length) {
    throw new TestFileError(`rules do not check:\n${result.errors.map((e) => formatRuleError(e, result.sources.get(e.file))).join('\n')}`);
  }
  return result.model!;
}

function fmtLabels(l: Record<string, string>): string {
  return `{${Object.entries(l).map(([k, v]) => `${k}="${v}"`).join(', ')}}`;
}

function describeView(v: AlertView | null): string {
  if (!v) return 'inactive (never seen)';
  let s = v.phase;
  if (v.level && (v.phase === 'firing' || v.phase === 'pending')) s += ` (level ${v.level})`;
  return `${s} ${fmtLabels(v.labels)}`;
}

function subset(want: Record<string, string>, got: Record<string, string>): boolean {
  return Object.entries(want).every(([k, v]) => got[k] === v);
}

function checkExpectation(x: Expectation, views: AlertView[]): string | null {
  const matching = views.filter((v) => subset(x.labels, v.labels));
  const ok = (v: AlertView) =>
    v.phase === x.state &&
    (x.level === null || v.level === x.level) &&
    subset(x.annotations, v.annotations);
  const pass = x.state === 'inactive' ? matching.every((v) => v.phase === 'inactive') : matching.some(ok);
  if (pass) return null;
  const want = `${x.state}${x.level ? ` (level ${x.level})` : ''}${Object.keys(x.annotations).length ? ` with annotations ${JSON.stringify(x.annotations)}` : ''}`;
  const got = matching.length ? matching.map((v) => `${describeView(v)}${Object.keys(x.annotations).length ? ` annotations ${JSON.stringify(v.annotations)}` : ''}`).join('; ') : 'inactive (no such group)';
  return `at ${formatDuration(x.at)}: alert ${x.alert} ${fmtLabels(x.labels)}: expected ${want}, got ${got}`;
}

function parseExpectations(t: Obj, where: string): Expectation[] {
  const out: Expectation[] = [];
  asList(t.expect, `${where}.expect`).forEach((raw, i) => {
    const w = `${where}.expect[${i}]`;
    const e = asObj(raw, w);
    const state = String(e.state ?? '');
    if (!['inactive', 'pending', 'firing', 'resolved'].includes(state)) throw new TestFileError(`${w}.state: expected inactive, pending, firing or resolved, got ${JSON.stringify(e.state)}`);
    if (typeof e.alert !== 'string') throw new TestFileError(`${w}.alert: expected the alert's name`);
    out.push({
      at: duration(e.at, `${w}.at`),
      alert: e.alert,
      state: state as Expectation['state'],
      level: e.level === undefined || e.level === null ? null : String(e.level),
      labels: stringMap(e.labels, `${w}.labels`),
      annotations: stringMap(e.annotations, `${w}.annotations`),
      where: w,
    });
  });
  // promtool compatibility: alert_rule_test with exp_alerts (firing alerts; empty = none firing).
  asList(t.alert_rule_test, `${where}.alert_rule_test`).forEach((raw, i) => {
    const w = `${where}.alert_rule_test[${i}]`;
    const e = asObj(raw, w);
    const at = duration(e.eval_time, `${w}.eval_time`);
    const alert = String(e.alertname);
    const exp = asList(e.exp_alerts, `${w}.exp_alerts`);
    if (exp.length === 0) out.push({ at, alert, state: 'inactive', level: null, labels: {}, annotations: {}, where: w });
    for (const [j, a] of exp.entries()) {
      const ea = asObj(a, `${w}.exp_alerts[${j}]`);
      out.push({ at, alert, state: 'firing', level: null, labels: stringMap(ea.exp_labels, `${w}.exp_labels`), annotations: stringMap(ea.exp_annotations, `${w}.exp_annotations`), where: w });
    }
  });
  return out;
}

function parseEventExpectations(t: Obj, where: string): EventExpectation[] | null {
  if (t.expect_events === undefined) return null;
  return asList(t.expect_events, `${where}.expect_events`).map((raw, i) => {
    const w = `${where}.expect_events[${i}]`;
    const e = asObj(raw, w);
    return {
      alert: String(e.alert),
      transition: String(e.transition ?? '').toUpperCase(),
      at: e.at === undefined ? null : duration(e.at, `${w}.at`),
      level: e.level === undefined ? null : String(e.level),
      labels: stringMap(e.labels, `${w}.labels`),
    };
  });
}

interface Arrival {
  arrival: number;
  sample: Sample;
}

function inputSamples(t: Obj, where: string): Arrival[] {
  const interval = t.interval === undefined ? 60_000 : duration(t.interval, `${where}.interval`);
  if (interval <= 0) throw new TestFileError(`${where}.interval: must be longer than 0`);
  const out: Arrival[] = [];
  asList(t.input_series, `${where}.input_series`).forEach((raw, i) => {
    const w = `${where}.input_series[${i}]`;
    const s = asObj(raw, w);
    let series;
    let values;
    try {
      series = parseSeries(String(s.series));
      values = parseValues(String(s.values ?? ''));
    } catch (err) {
      throw new TestFileError(`${w}: ${(err as Error).message}`);
    }
    const delay = s.delay === undefined ? 0 : duration(s.delay, `${w}.delay`);
    values.forEach((v, j) => {
      if (v === null) return;
      const timestamp = j * interval;
      out.push({ arrival: timestamp + delay, sample: { name: series.name, labels: series.labels, timestamp, value: v, kind: 'UNKNOWN' } });
    });
  });
  return out.sort((a, b) => a.arrival - b.arrival || a.sample.timestamp - b.sample.timestamp);
}

function eventMatches(x: EventExpectation, ev: AlertEvent): boolean {
  return ev.alertname === x.alert && ev.transition === x.transition && (x.at === null || ev.window_end === x.at) && (x.level === null || ev.level === x.level) && subset(x.labels, ev.labels);
}

function describeEvent(ev: AlertEvent): string {
  return `${ev.transition.toLowerCase()} ${ev.alertname}${ev.level ? ` (level ${ev.level})` : ''} at ${formatDuration(ev.window_end)} ${fmtLabels(ev.labels)}`;
}

/** Options of the runner (tests of the runner itself). */
export interface RulesTestOptions {
  /** Run the rules through the repartition stage (config rules.repartition). */
  repartition?: boolean;
}

function runCase(t: Obj, where: string, base: string, ruleFiles: string[], opts: RulesTestOptions): string[] {
  const model = loadRules(ruleFiles, base);
  const expectations = parseExpectations(t, where);
  const events = parseEventExpectations(t, where);
  const samples = inputSamples(t, where);
  const reloads = asList(t.reloads, `${where}.reloads`).map((raw, i) => {
    const r = asObj(raw, `${where}.reloads[${i}]`);
    return { at: duration(r.at, `${where}.reloads[${i}].at`), files: asList(r.rule_files, `${where}.reloads[${i}].rule_files`).map(String) };
  });

  const module = new RulesModule(model);
  const topology = buildRulesTopology({
    applicationId: 'vigil-rules-test',
    module,
    decode: jsonSampleBatchDecoder(),
    alertSerde: jsonSerde<AlertEvent>(),
    sampleBatchSerde: jsonSerde<SampleBatch>(),
    ...(opts.repartition !== undefined ? { repartition: opts.repartition } : {}),
  });
  const driver = new TopologyTestDriver(topology, { wallClockStart: 0 });
  try {
    const input = driver.createInputTopic('metrics', stringSerde, jsonSerde<SampleBatch>());
    const alerts = driver.createOutputTopic('alerts', stringSerde, jsonSerde<AlertEvent>());
    const checkpoints = [...new Set([...expectations.map((x) => x.at), ...reloads.map((r) => r.at)])].sort((a, b) => a - b);
    const lastSample = samples.length ? samples[samples.length - 1]!.arrival : 0;
    if (events) checkpoints.push(Math.max(lastSample, ...checkpoints, 0) + 1);
    const failures: string[] = [];
    const emitted: AlertEvent[] = [];
    let next = 0;
    let grace = Math.max(0, ...module.liveEngines.flatMap((e) => e.loadedRules.map((r) => r.graceMs)), ...model.rules.map((r) => r.graceMs));
    let streamTime = -Infinity;
    const advanceTo = (target: number) => {
      while (next < samples.length && samples[next]!.arrival <= target) {
        const arrival = samples[next]!.arrival;
        const batch: Sample[] = [];
        while (next < samples.length && samples[next]!.arrival === arrival) batch.push(samples[next++]!.sample);
        input.pipeInput('test', { source: {}, samples: batch }, arrival);
        streamTime = Math.max(streamTime, ...batch.map((s) => s.timestamp));
      }
      if (streamTime < target) {
        input.pipeInput('test', { source: {}, samples: [] }, target);
        streamTime = target;
      }
      emitted.push(...alerts.readValuesToList());
    };
    for (const at of checkpoints) {
      const last = events && at === checkpoints[checkpoints.length - 1];
      // After the last checkpoint of an event list, close every window that has data.
      advanceTo(last ? at + Math.max(...model.rules.map((r) => r.windowMs), 0) + grace : at + grace);
      const views = (name: string) => module.liveEngines.flatMap((e) => e.alertStates(name));
      for (const x of expectations.filter((e) => e.at === at)) {
        const f = checkExpectation(x, views(x.alert));
        if (f) failures.push(f);
      }
      for (const r of reloads.filter((e) => e.at === at)) {
        const m = loadRules(r.files, base);
        module.reload(m);
        grace = Math.max(0, ...m.rules.map((x) => x.graceMs));
      }
    }
    if (events) {
      const unmatched = [...emitted];
      for (const x of events) {
        const i = unmatched.findIndex((ev) => eventMatches(x, ev));
        if (i < 0) failures.push(`expected event ${x.transition.toLowerCase()} ${x.alert}${x.level ? ` (level ${x.level})` : ''}${x.at !== null ? ` at ${formatDuration(x.at)}` : ''} ${fmtLabels(x.labels)}, got none such; events: ${emitted.map(describeEvent).join('; ') || 'none'}`);
        else unmatched.splice(i, 1);
      }
      for (const ev of unmatched) failures.push(`unexpected event: ${describeEvent(ev)}`);
    }
    return failures;
  } finally {
    driver.close();
  }
}

/** Runs one test file; never throws for problems of the file (they are returned). */
export function runRulesTestFile(file: string, opts: RulesTestOptions = {}): RulesTestFileResult {
  const result: RulesTestFileResult = { file, errors: [], tests: [] };
  let doc: Obj;
  try {
    doc = asObj(parseYaml(readFileSync(file, 'utf8')), 'top level');
  } catch (err) {
    result.errors.push(err instanceof TestFileError ? err.message : `cannot read test file: ${(err as Error).message}`);
    return result;
  }
  const base = dirname(file);
  try {
    const ruleFiles = asList(doc.rule_files, 'rule_files').map(String);
    if (ruleFiles.length === 0) throw new TestFileError('rule_files: list the rules files to test');
    loadRules(ruleFiles, base);
    asList(doc.tests, 'tests').forEach((raw, i) => {
      const t = asObj(raw, `tests[${i}]`);
      const name = typeof t.name === 'string' ? t.name : `tests[${i}]`;
      try {
        result.tests.push({ name, failures: runCase(t, `tests[${i}]`, base, ruleFiles, opts) });
      } catch (err) {
        if (!(err instanceof TestFileError)) throw err;
        result.tests.push({ name, failures: [err.message] });
      }
    });
  } catch (err) {
    if (!(err instanceof TestFileError)) throw err;
    result.errors.push(err.message);
  }
  return result;
}
