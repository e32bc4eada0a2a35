/**
 * Turns pushed data into samples grouped by source, checking every series against the rules of
 * contracts.md (names, label count and size). Problems are returned with their line (line
 * protocol) or time series index (remote_write); the caller rejects the whole request then.
 *
 * Line protocol mapping: each numeric field becomes a sample named `<measurement>_<field>`, or
 * `<measurement>` for a field called `value` (Telegraf's Prometheus convention); tags become
 * labels; booleans are 1/0; kind UNKNOWN (line protocol does not say). String fields cannot be
 * samples: they are skipped and counted (`vigil_push_string_fields_skipped_total`).
 */
import { checkSeries } from '../../model/series.js';
import { SourceBatches, type SplitLabels } from '../source-batches.js';
import type { LinePoint, LineProblem } from './line-protocol.js';
import type { RemoteWriteRequest } from './remote-write.js';

export interface PushConversion {
  batches: SourceBatches;
  problems: LineProblem[];
  skippedStringFields: number;
}

/** Samples from parsed line-protocol points; `now` stamps points without a timestamp. */
export function samplesFromLines(points: LinePoint[], sourceLabels: ReadonlySet<string>, now: number): PushConversion {
  const batches = new SourceBatches(sourceLabels);
  const problems: LineProblem[] = [];
  let skippedStringFields = 0;
  // Metric names repeat across lines: check each one once per request.
  const nameProblems = new Map<string, string | null>();
  for (const p of points) {
    const ts = p.timestamp ?? now;
    // The tags once per line (a valid placeholder name: the names are checked per field below).
    const labelProblem = checkSeries('x', p.tags);
    if (labelProblem) {
      problems.push({ line: p.line, message: labelProblem.message });
      continue;
    }
    let split: SplitLabels | undefined;
    for (const f of p.fields) {
      if (f.type === 'string') {
        skippedStringFields++;
        continue;
      }
      const name = f.key === 'value' ? p.measurement : `${p.measurement}_${f.key}`;
      let nameProblem = nameProblems.get(name);
      if (nameProblem === undefined) {
        nameProblem = checkSeries(name, {})?.message ?? null;
        nameProblems.set(name, nameProblem);
      }
      if (nameProblem !== null) {
        problems.push({ line: p.line, message: nameProblem });
        break;
      }
      split ??= batches.split(p.tags);
      batches.addSplit(split, name, ts, f.value, 'UNKNOWN');
    }
  }
  return { batches, problems, skippedStringFields };
}

/** Samples from a decoded remote_write request; a problem's `line` is the 1-based time series index. */
export function samplesFromRemoteWrite(request: RemoteWriteRequest, sourceLabels: ReadonlySet<string>): PushConversion {
  const batches = new SourceBatches(sourceLabels);
  const problems: LineProblem[] = [];
  request.timeseries.forEach((ts, index) => {
    let name: string | undefined;
    const labels: Record<string, string> = {};
    for (const l of ts.labels) {
      if (l.name === '__name__') name = l.value;
      else if (l.value !== '') labels[l.name] = l.value;
    }
    if (name === undefined || name === '') {
      problems.push({ line: index + 1, message: 'time series without a __name__ label' });
      return;
    }
    const problem = checkSeries(name, labels);
    if (problem) {
      problems.push({ line: index + 1, message: problem.message });
      return;
    }
    const kind = request.kinds.get(name) ?? 'UNKNOWN';
    for (const s of ts.samples) {
      if (!Number.isSafeInteger(s.timestamp)) {
        problems.push({ line: index + 1, message: `invalid timestamp ${s.timestamp}` });
        return;
      }
      batches.add(name, labels, s.timestamp, s.value, kind);
    }
  });
  return { batches, problems, skippedStringFields: 0 };
}

/** Number of distinct series in the batches (name plus all labels). */
export function countSeries(batches: SourceBatches): number {
  const seen = new Set<string>();
  for (const b of batches.batches()) {
    const src = JSON.stringify(b.source);
    for (const s of b.samples) {
      let key = `${s.name}\u0000${src}`;
      for (const k in s.labels) key += `\u0000${k}\u0001${s.labels[k]}`;
      seen.add(key);
    }
  }
  return seen.size;
}
