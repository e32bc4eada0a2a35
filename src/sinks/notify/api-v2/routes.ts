/**
 * Alertmanager's API v2 on the notifier's HTTP server (what amtool and Grafana's Alertmanager data
 * source call):
 *   GET    /api/v2/status                 version, uptime, the routes/receivers as config.original
 *   GET    /api/v2/receivers              receiver names            (receiver_matchers)
 *   GET    /api/v2/silences               silences                  (filter, active, pending, expired)
 *   POST   /api/v2/silences               create / update / replace -> {silenceID}
 *   GET    /api/v2/silence/{id}           one silence
 *   DELETE /api/v2/silence/{id}           expire
 *   GET    /api/v2/alerts                 alerts                    (filter, active, silenced, inhibited, unprocessed, receiver, receiver_matchers)
 *   GET    /api/v2/alerts/groups          aggregation groups        (same, and muted)
 * Errors as in Alertmanager: a JSON string with the message; 400 bad input, 404 unknown silence, 503
 * while the notifier starts. POST /api/v2/alerts (alerts from a Prometheus) is not served: Vigil's
 * alerts come from its rules engine.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { NotReadyError } from '../errors.js';
import { compileMatcher } from '../matchers.js';
import type { NotifyApiDeps } from '../notify-http.js';
import type { SilenceState } from '../silences.js';
import { listAlertGroups, listAlerts, type AlertQuery } from './alerts-v2.js';
import { FilterError, parseFilters } from './filter-matchers.js';
import { ApiV2Error, deleteSilence, getSilence, listSilences, postSilence } from './silences-v2.js';
import { alertmanagerStatus, listReceivers, type AlertmanagerInfo } from './status-v2.js';

type Query = Record<string, string | string[] | undefined>;

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** `filter` (or `filter[]`) values as matchers. */
const filtersOf = (q: Query, key: string) => parseFilters([...list(q[key]), ...list(q[`${key}[]`])]);

/** A boolean parameter as Go's strconv.ParseBool reads it; absent = `fallback`. */
function flag(q: Query, name: string, fallback = true): boolean {
  const v = list(q[name]).at(-1);
  if (v === undefined || v === '') return fallback;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw new ApiV2Error(400, `${name}: expected true or false, got ${JSON.stringify(v)}`);
}

/** The `receiver` regex, compiled as the notifier compiles every matcher regex (anchored; matchers.ts). */
function receiverRegex(q: Query): ((name: string) => boolean) | undefined {
  const v = list(q.receiver).at(-1);
  if (v === undefined || v === '') return undefined;
  try {
    const m = compileMatcher({ name: 'receiver', op: '=~', value: v });
    return (name) => m.matches({ receiver: name });
  } catch (err) {
    throw new ApiV2Error(400, `failed to parse receiver param: ${(err as Error).message}`);
  }
}

function alertQuery(q: Query): AlertQuery {
  const receiver = receiverRegex(q);
  return {
    filters: filtersOf(q, 'filter'),
    receiverMatchers: filtersOf(q, 'receiver_matchers'),
    active: flag(q, 'active'),
    silenced: flag(q, 'silenced'),
    inhibited: flag(q, 'inhibited'),
    unprocessed: flag(q, 'unprocessed'),
    ...(receiver ? { receiver } : {}),
  };
}

function info(d: NotifyApiDeps): AlertmanagerInfo {
  if (!d.alertmanager) throw new ApiV2Error(503, 'the notifier did not provide its routes to the Alertmanager API');
  return d.alertmanager;
}

function fail(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof ApiV2Error) return reply.code(err.status).send(JSON.stringify(err.message));
  if (err instanceof FilterError) return reply.code(400).send(JSON.stringify(err.message));
  if (err instanceof NotReadyError) return reply.code(503).send(JSON.stringify(err.message));
  const e = err as { statusCode?: number; message: string };
  return reply.code(e.statusCode && e.statusCode < 500 ? e.statusCode : 500).send(JSON.stringify(e.message));
}

/** Registers the routes on `app` (in a context of their own: their error answers are Alertmanager's). */
export function registerAlertmanagerRoutes(app: FastifyInstance, d: NotifyApiDeps): void {
  app.setErrorHandler((err, _req, reply) => fail(reply.type('application/json'), err));

  app.get('/api/v2/status', async () => alertmanagerStatus(info(d)));
  app.get('/api/v2/receivers', async (req) => listReceivers(info(d), filtersOf(req.query as Query, 'receiver_matchers')));

  app.get('/api/v2/silences', async (req) => {
    const q = req.query as Query;
    const states = new Set<SilenceState>();
    for (const s of ['active', 'pending', 'expired'] as const) if (flag(q, s)) states.add(s);
    return listSilences(d, { filters: filtersOf(q, 'filter'), states }, d.now());
  });
  app.post('/api/v2/silences', async (req) => postSilence(d, req.body, d.now()));
  app.get<{ Params: { id: string } }>('/api/v2/silence/:id', async (req) => getSilence(d, req.params.id, d.now()));
  app.delete<{ Params: { id: string } }>('/api/v2/silence/:id', async (req, reply) => {
    await deleteSilence(d, req.params.id, d.now());
    return reply.code(200).send();
  });

  app.get('/api/v2/alerts', async (req) => {
    const q = alertQuery(req.query as Query);
    const i = info(d);
    return listAlerts(d, { config: i.config, externalUrl: i.externalUrl }, q, d.now());
  });
  app.get('/api/v2/alerts/groups', async (req) => {
    const query = req.query as Query;
    const q = alertQuery(query);
    // Vigil has no time intervals: no group is ever muted, so `muted=false` removes none.
    flag(query, 'muted');
    const i = info(d);
    return listAlertGroups(d, { config: i.config, externalUrl: i.externalUrl }, q, d.now());
  });
}
