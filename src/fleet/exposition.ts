/**
 * Renders a host's samples as Prometheus text exposition 0.0.4 (what a node exporter would serve).
 * Metric names there may not contain dots, so `cpu.load` is exposed as `cpu_load`; no timestamps,
 * so the scraper stamps samples with its scrape time, as with any live exporter.
 */
import type { Sample } from '../model/types.js';

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The Prometheus-legal form of a Vigil metric name: every character outside [a-zA-Z0-9_:] becomes `_`. */
export function prometheusName(name: string): string {
  const mapped = name.replace(/[^a-zA-Z0-9_:]/g, '_');
  return /^[0-9]/.test(mapped) ? `_${mapped}` : mapped;
}

function escapeLabelValue(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** Text 0.0.4 for `samples`: one `# TYPE` line per metric name, then its samples. */
export function renderExposition(samples: readonly Sample[]): string {
  const byName = new Map<string, Sample[]>();
  for (const s of samples) {
    const list = byName.get(s.name);
    if (list) list.push(s);
    else byName.set(s.name, [s]);
  }
  let out = '';
  for (const [name, list] of byName) {
    const exposed = prometheusName(name);
    const kind = list[0]!.kind === 'COUNTER' ? 'counter' : list[0]!.kind === 'GAUGE' ? 'gauge' : 'untyped';
    out += `# TYPE ${exposed} ${kind}\n`;
    for (const s of list) {
      const keys = Object.keys(s.labels);
      const labels = keys.length ? `{${keys.map((k) => `${k}="${escapeLabelValue(s.labels[k]!)}"`).join(',')}}` : '';
      out += `${exposed}${labels} ${formatValue(s.value)}\n`;
    }
  }
  return out;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
