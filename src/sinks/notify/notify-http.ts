/**
 * The notifier's HTTP API (fastify routes, mounted on the process's one HTTP server):
 *   GET    /api/v1/silences              list (with state pending/active/expired)
 *   GET    /api/v1/silences/:id          one silence
 *   POST   /api/v1/silences              create (or update when the body has an existing `id`)
 *   PUT    /api/v1/silences/:id          update
 *   DELETE /api/v1/silences/:id          expire now
 *   POST   /api/v1/acks                  acknowledge an alert's current transition {fingerprint, author, comment}
 *   GET    /api/v1/acks                  acknowledgements
 *   GET    /api/v1/notifier/alerts       alerts as the notifier knows them (latest transition, acked, silenced, inhibited);
 *                                        /api/v1/alerts is the query API's Prometheus-shaped view of the rules engine
 *   GET    /api/v1/alerts/:fp/history    every transition, notification, mute and ack of one alert
 * An invalid request gets 400 with `{error, field}` naming the wrong field.
 * Alertmanager's API v2 (/api/v2/*, api-v2/routes.ts) is served beside them, on the same silences.
 */
import type { FastifyInstance } from 'fastify';
import type { Ack } from './acks.js';
import { parseAckRequest } from './acks.js';
import { NotFoundError, NotReadyError, RequestValidationError } from './errors.js';
import type { NotifierCore } from './notifier-core.js';
import { registerAlertmanagerRoutes } from './api-v2/routes.js';
import { commitSilence, expireSilence } from './api-v2/silence-writes.js';
import type { AlertmanagerInfo } from './api-v2/status-v2.js';
import { parseSilenceRequest, silenceState, type Silence } from './silences.js';

/** What the routes need besides the core: durable publication of silences and acks. */
export interface NotifyApiDeps {
  readonly core: NotifierCore;
  readonly now: () => number;
  publishSilence(s: Silence): Promise<void>;
  publishAck(a: Ack): Promise<void>;
  /** Called after a silence or ack was applied (e.g. to re-arm the notifier's timer). */
  changed?(): void;
  /** Routes, receivers and settings for the Alertmanager API's status, receivers and alerts. */
  readonly alertmanager?: AlertmanagerInfo;
}

function view(s: Silence, now: number) {
  return {
    id: s.id,
    matchers: s.matchers,
    startsAt: new Date(s.startsAt).toISOString(),
    endsAt: new Date(s.endsAt).toISOString(),
    updatedAt: new Date(s.updatedAt).toISOString(),
    createdBy: s.createdBy,
    comment: s.comment,
    status: { state: silenceState(s, now) },
  };
}

/**
 * Adds the routes in their own fastify context (their error handler does not touch other routes).
 * `deps` may be a getter: routes registered before the notifier started answer 503 until it has.
 */
export function registerNotifyRoutes(root: FastifyInstance, deps: NotifyApiDeps | (() => NotifyApiDeps | undefined)): void {
  const get = typeof deps === 'function' ? deps : () => deps;
  const d: NotifyApiDeps = {
    get core() {
      return need().core;
    },
    now: () => need().now(),
    publishSilence: (s) => need().publishSilence(s),
    publishAck: (a) => need().publishAck(a),
    changed: () => need().changed?.(),
    get alertmanager() {
      return need().alertmanager;
    },
  };
  const need = (): NotifyApiDeps => {
    const v = get();
    if (!v) throw new NotReadyError();
    return v;
  };
  void root.register(async (app) => routes(app, d));
  void root.register(async (app) => registerAlertmanagerRoutes(app, d));
}

function routes(app: FastifyInstance, d: NotifyApiDeps): void {
  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof RequestValidationError) return reply.code(400).send({ error: err.message, field: err.field });
    if (err instanceof NotFoundError) return reply.code(404).send({ error: err.message });
    if (err instanceof NotReadyError) return reply.code(503).send({ error: err.message });
    const e = err as { statusCode?: number; message: string };
    if (e.statusCode && e.statusCode < 500) return reply.code(e.statusCode).send({ error: e.message, field: 'body' });
    return reply.code(500).send({ error: e.message });
  });

  const find = (id: string) => {
    const s = d.core.silences.get(id);
    if (!s) throw new NotFoundError(`silence "${id}" does not exist`);
    return s;
  };

  const save = async (body: unknown, existing?: Silence) => {
    const now = d.now();
    if (existing && silenceState(existing, now) === 'expired') {
      throw new RequestValidationError('id', `silence "${existing.id}" has expired; create a new one`);
    }
    const s = parseSilenceRequest(body, now, existing);
    await commitSilence(d, s, now);
    return { silenceID: s.id, silence: view(s, now) };
  };

  app.get('/api/v1/silences', async () => d.core.silences.list().map((s) => view(s, d.now())));
  app.get<{ Params: { id: string } }>('/api/v1/silences/:id', async (req) => view(find(req.params.id), d.now()));
  app.post('/api/v1/silences', async (req) => {
    const body = req.body as { id?: unknown } | undefined;
    const id = body && typeof body === 'object' ? body.id : undefined;
    if (id !== undefined && (typeof id !== 'string' || !d.core.silences.get(id))) {
      throw new RequestValidationError('id', `silence ${JSON.stringify(id)} does not exist`);
    }
    return save(req.body, id === undefined ? undefined : find(id as string));
  });
  app.put<{ Params: { id: string } }>('/api/v1/silences/:id', async (req) => save(req.body, find(req.params.id)));
  app.delete<{ Params: { id: string } }>('/api/v1/silences/:id', async (req) => {
    const now = d.now();
    return view(await expireSilence(d, find(req.params.id), now), now);
  });

  app.post('/api/v1/acks', async (req) => {
    const r = parseAckRequest(req.body);
    const now = d.now();
    const ack = d.core.makeAck(r.fingerprint, r.author, r.comment, now);
    await d.publishAck(ack);
    await d.core.applyAck(ack, now, true);
    return ack;
  });
  app.get('/api/v1/acks', async () => d.core.acks.list());

  app.get('/api/v1/notifier/alerts', async () => {
    const now = d.now();
    return d.core.currentAlerts(now).map((c) => ({
      ...c.alert,
      status: c.alert.transition === 'RESOLVED' ? 'resolved' : 'firing',
      acked: c.acked,
      silencedBy: c.silencedBy,
      inhibitedBy: c.inhibitedBy ?? null,
    }));
  });
  app.get<{ Params: { fp: string } }>('/api/v1/alerts/:fp/history', async (req) => {
    const alert = d.core.alert(req.params.fp);
    if (!alert) throw new NotFoundError(`no alert with fingerprint "${req.params.fp}"`);
    return { fingerprint: alert.fingerprint, alert, history: d.core.historyOf(alert.fingerprint) };
  });
}
