/**
 * /api/v1/alerts, /api/v1/rules (Prometheus' shapes, from the rules engine's AlertingView, with
 * Vigil's extra fields beside them) and /api/v1/status/buildinfo. Cheap reads of in-memory state:
 * answered on the thread that serves HTTP.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { ActiveAlert, AlertingView } from './alerting-view.js';

/** The Prometheus version whose PromQL semantics Vigil implements (what Grafana reads). */
export const PROMETHEUS_COMPATIBLE_VERSION = '2.42.0';

const vigilVersion = (() => {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
})();

/** Prometheus writes alert values with strconv.FormatFloat(v, 'e', -1, 64). */
function alertValue(v: number | null): string {
  if (v === null || Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  const [m, e] = v.toExponential().split('e') as [string, string];
  const exp = Number(e);
  return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

function alertJson(a: ActiveAlert) {
  return {
    labels: a.labels,
    annotations: a.annotations,
    state: a.state,
    activeAt: new Date(a.activeAt).toISOString(),
    value: alertValue(a.value),
    fingerprint: a.fingerprint,
    level: a.level,
    query: a.query,
    explanation: a.explanation,
  };
}

export function registerAlertingRoutes(app: FastifyInstance, alerting: AlertingView | undefined): void {
  app.get('/api/v1/status/buildinfo', async () => ({
    status: 'success',
    data: { version: PROMETHEUS_COMPATIBLE_VERSION, revision: `vigil-${vigilVersion}`, branch: 'vigil', buildUser: 'vigil', buildDate: '', goVersion: `node${process.versions.node}`, vigilVersion },
  }));
  const view: AlertingView = alerting ?? { alerts: () => [], rules: () => ({ files: [], rules: [], errors: [], lastReload: null }) };
  app.get('/api/v1/alerts', async () => ({ status: 'success', data: { alerts: view.alerts().map(alertJson) } }));
  app.get('/api/v1/rules', async (request) => {
    const type = (request.query as { type?: string }).type;
    const rules = view.rules();
    const active = view.alerts();
    const files = [...new Set([...rules.files, ...rules.rules.map((r) => r.file)])];
    const lastEvaluation = rules.lastReload === null ? new Date(0).toISOString() : new Date(rules.lastReload).toISOString();
    const errorsOf = (file: string) => rules.errors.filter((e) => e.file === file).map((e) => e.text);
    return {
      status: 'success',
      data: {
        groups: files.map((file) => ({
          name: file,
          file,
          interval: 0,
          evaluationTime: 0,
          lastEvaluation,
          rules: rules.rules
            .filter((r) => r.file === file)
            .filter((r) => !type || (type === 'alert' ? r.kind === 'alert' : type === 'record' ? r.kind === 'record' : true))
            .map((r) => {
              const base = { name: r.name, query: r.query, labels: r.labels, health: errorsOf(file).length ? 'err' : 'ok', lastError: errorsOf(file).join('\n'), evaluationTime: 0, lastEvaluation };
              if (r.kind === 'record') return { ...base, type: 'recording' };
              const alerts = active.filter((a) => a.labels.alertname === r.name).map(alertJson);
              const state = alerts.some((a) => a.state === 'firing') ? 'firing' : alerts.length ? 'pending' : 'inactive';
              return { ...base, type: 'alerting', state, duration: r.forMs / 1000, annotations: {}, alerts };
            }),
        })),
      },
      vigil: { errors: rules.errors, lastReload: rules.lastReload === null ? null : new Date(rules.lastReload).toISOString() },
    };
  });
}
