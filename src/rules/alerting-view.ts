/**
 * What the query API shows of the rules (src/query/alerting-view.ts): the pending and firing groups
 * of every live task's engine, each with its fingerprint and the explanation fields of its last
 * alert event, and the loaded rules with the errors of the last reload.
 */
import type { CExpr, CheckedRule } from '../dsl/model.js';
import { alertFingerprint } from '../model/series.js';
import type { ActiveAlert, AlertingView, LoadedRule, ReloadError } from '../query/alerting-view.js';
import type { RulesModule } from './rules-processor.js';

export interface AlertingSources {
  module: RulesModule | null;
  files: string[];
  reload: { at: number | null; errors: ReloadError[] };
}

/** The first aggregation (or absent()) of an expression, as written: the series behind a rule. */
function firstAggregation(e: CExpr | null): string | null {
  if (!e) return null;
  switch (e.t) {
    case 'agg':
    case 'absent':
      return e.text;
    case 'fn':
    case 'not':
    case 'neg':
      return firstAggregation(e.arg);
    case 'arith':
    case 'cmp':
    case 'logic':
      return firstAggregation(e.left) ?? firstAggregation(e.right);
    default:
      return null;
  }
}

function ruleQuery(rule: CheckedRule): string {
  return firstAggregation(rule.value) ?? firstAggregation(rule.when) ?? firstAggregation(rule.levels[0]?.cond ?? null) ?? '';
}

export function alertingView(get: () => AlertingSources): AlertingView {
  return {
    alerts(): ActiveAlert[] {
      const { module } = get();
      if (!module) return [];
      const out: ActiveAlert[] = [];
      for (const engine of module.liveEngines) {
        for (const rule of engine.loadedRules) {
          if (rule.kind !== 'alert') continue;
          for (const v of engine.alertStates(rule.name)) {
            if (v.phase !== 'pending' && v.phase !== 'firing') continue;
            const fingerprint = alertFingerprint(v.labels);
            const ev = module.lastEvents.get(fingerprint);
            out.push({
              fingerprint,
              state: v.phase,
              level: v.level,
              labels: v.labels,
              annotations: v.annotations,
              activeAt: v.activeSince,
              value: v.value,
              query: ruleQuery(rule),
              explanation: ev
                ? {
                    event_id: ev.event_id,
                    transition: ev.transition,
                    sequence: ev.sequence,
                    rule_file: ev.rule_file,
                    rule_hash: ev.rule_hash,
                    window_start: new Date(ev.window_start).toISOString(),
                    window_end: new Date(ev.window_end).toISOString(),
                    watermark: new Date(ev.watermark).toISOString(),
                    inputs: ev.inputs,
                  }
                : { rule_file: rule.file, rule_hash: rule.hash },
            });
          }
        }
      }
      return out;
    },
    rules() {
      const { module, files, reload } = get();
      const loaded = module?.liveEngines[0]?.loadedRules ?? [];
      const rules: LoadedRule[] = loaded.map((r) => ({ name: r.name, kind: r.kind, file: r.file, query: ruleQuery(r), labels: r.labels, forMs: r.forMs }));
      return { files: [...new Set([...files, ...loaded.map((r) => r.file)])], rules, errors: reload.errors, lastReload: reload.at };
    },
  };
}
