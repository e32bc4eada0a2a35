/**
 * Inhibition: a firing alert matching an inhibit's `source` mutes alerts matching its `target`
 * that have the same values for the `equal` labels (a missing label equals a missing label, as in
 * Alertmanager). An alert never inhibits itself.
 */
import type { NotifyAlert } from './alert.js';
import { isResolved } from './alert.js';
import { matchesAll, type Labels } from './matchers.js';
import type { CompiledInhibit } from './notify-config.js';

export class Inhibitor {
  /** Per inhibit rule: firing source alerts by fingerprint. */
  private readonly sources: Map<string, NotifyAlert>[];

  constructor(private readonly rules: readonly CompiledInhibit[]) {
    this.sources = rules.map(() => new Map());
  }

  /** Tracks an alert's latest transition (firing sources are added, resolved ones removed). */
  observe(alert: NotifyAlert): void {
    this.rules.forEach((rule, i) => {
      const firingSource = !isResolved(alert) && matchesAll(rule.source, alert.labels);
      if (firingSource) this.sources[i]!.set(alert.fingerprint, alert);
      else this.sources[i]!.delete(alert.fingerprint);
    });
  }

  /** The fingerprint of an alert that inhibits this one, or undefined. */
  inhibitedBy(fingerprint: string, labels: Labels): string | undefined {
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i]!;
      if (!matchesAll(rule.target, labels)) continue;
      for (const src of this.sources[i]!.values()) {
        if (src.fingerprint === fingerprint) continue;
        if (rule.equal.every((l) => (src.labels[l] ?? '') === (labels[l] ?? ''))) return src.fingerprint;
      }
    }
    return undefined;
  }
}
