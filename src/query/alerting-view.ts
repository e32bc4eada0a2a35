/**
 * What the HTTP API shows of the rules engine: active alerts with the explanation fields of their
 * last alert event, and the loaded rules with the errors of the last reload. The rules runtime
 * provides it; the API only reads.
 */
export interface ActiveAlert {
  fingerprint: string;
  state: 'pending' | 'firing';
  level: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** When the alert became pending/firing (ms). */
  activeAt: number;
  value: number | null;
  /** The rule's expression as written (the series behind the alert). */
  query: string;
  /** Fields of the alert event that decided it (rule_file, rule_hash, window, watermark, inputs). */
  explanation: Record<string, unknown>;
}

export interface LoadedRule {
  name: string;
  kind: 'alert' | 'record';
  file: string;
  query: string;
  labels: Record<string, string>;
  forMs: number;
}

export interface ReloadError {
  file: string;
  line: number;
  column: number;
  message: string;
  /** `file:line:col: message` with the source line and a caret. */
  text: string;
}

export interface AlertingView {
  alerts(): ActiveAlert[];
  rules(): { files: string[]; rules: LoadedRule[]; errors: ReloadError[]; lastReload: number | null };
}
