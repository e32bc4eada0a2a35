/** The alert events of the rules engine and the labels/annotations they carry (pure: no clock, no state). */
import type { CheckedRule } from '../dsl/model.js';
import { renderTemplate } from '../dsl/template.js';
import { alertFingerprint, hash64 } from '../model/series.js';
import type { AlertEvent, Transition } from '../model/types.js';
import type { AlertState } from './alert-state.js';

/** Alert labels: group labels, then rule labels (with defaults), alertname, and the severity/level. */
export function alertLabels(rule: CheckedRule, st: AlertState): Record<string, string> {
  const labels: Record<string, string> = { ...st.group, ...rule.labels, alertname: rule.name };
  const sev = rule.levels.length ? st.level : rule.severity;
  if (sev) labels.severity = sev;
  else delete labels.severity;
  return labels;
}

/** Alert annotations: the rule's templates rendered with the value, alertname, level and `labels`. */
export function alertAnnotations(rule: CheckedRule, st: AlertState, labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  const ctx = { value: st.value, alertname: rule.name, level: st.level ?? rule.severity, labels };
  for (const [k, parts] of Object.entries(rule.annotations)) out[k] = renderTemplate(parts, ctx);
  return out;
}

/**
 * The AlertEvent of one transition of one (rule, group) for the window [start, end). `watermark` is the
 * engine's stream time (end when none yet); the event id is deterministic (fingerprint, transition, end).
 */
export function alertEvent(
  rule: CheckedRule,
  st: AlertState,
  transition: Transition,
  start: number,
  end: number,
  inputs: Record<string, number>,
  watermark: number,
): AlertEvent {
  const labels = alertLabels(rule, st);
  const fingerprint = alertFingerprint(labels);
  const numeric: Record<string, number> = {};
  for (const [k, v] of Object.entries(inputs)) if (Number.isFinite(v)) numeric[k] = v;
  if (st.value !== null && Number.isFinite(st.value)) numeric.value = st.value;
  return {
    event_id: hash64(`${fingerprint}|${transition}|${end}`).key,
    fingerprint,
    sequence: st.sequence,
    transition,
    alertname: rule.name,
    level: rule.levels.length ? st.level : null,
    labels: Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1))),
    annotations: alertAnnotations(rule, st, labels),
    value: st.value !== null && Number.isFinite(st.value) ? st.value : null,
    rule_file: rule.file,
    rule_hash: rule.hash,
    window_start: start,
    window_end: end,
    watermark: Number.isFinite(watermark) ? watermark : end,
    active_since: st.activeSince,
    inputs: numeric,
  };
}
