/**
 * Alertmanager's API v2 on the notifier (in-process: fastify inject over a NotifierCore on memory
 * storage). The same silences as /api/v1 and `vigil silence`; shapes of api/v2/openapi.yaml,
 * behaviour of api/v2/api.go and silence/silence.go.
 */
import Fastify from 'fastify';
import { parse as parseYaml } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { registerNotifyRoutes, type NotifyApiDeps } from '../../../src/sinks/notify/notify-http.js';
import { compileNotifyConfig, type NotifyConfig } from '../../../src/sinks/notify/notify-config.js';
import type { Silence } from '../../../src/sinks/notify/silences.js';
import { event, makeCore, webhook } from './fixtures.js';

const NOW = Date.UTC(2026, 0, 1, 12);
const H = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

const CONFIG: NotifyConfig = {
  receivers: [webhook('ops'), { name: 'pager', type: 'pagerduty', routingKey: { env: 'PD_KEY' } }],
  routes: [
    { match: [{ name: 'severity', op: '=', value: 'page' }], receivers: ['pager'], groupBy: ['alertname'], groupWaitMs: 0, continue: true },
    { match: [], receivers: ['ops'], groupBy: ['alertname'], groupWaitMs: 0 },
  ],
  inhibits: [{ source: [{ name: 'alertname', op: '=', value: 'NodeDown' }], target: [{ name: 'alertname', op: '=', value: 'ServiceDown' }], equal: ['host'] }],
};

async function setup() {
  let now = NOW;
  const { core } = makeCore(CONFIG);
  const published: Silence[] = [];
  const deps: NotifyApiDeps = {
    core,
    now: () => now,
    publishSilence: async (s) => void published.push(s),
    publishAck: async () => undefined,
    alertmanager: {
      config: compileNotifyConfig(CONFIG),
      settings: { smtpFrom: 'vigil@example.org', outbox: './data/outbox', pagerdutyUrl: 'https://events.pagerduty.com/v2/enqueue' },
      externalUrl: 'http://vigil.example:9464',
      startedAt: NOW - H,
    },
  };
  const app = Fastify();
  registerNotifyRoutes(app, deps);
  await core.ingest(
    [
      event({ alertname: 'NodeDown', host: 'a', severity: 'page' }, 'FIRING', { fingerprint: 'f1', at: NOW - 600_000 }),
      event({ alertname: 'ServiceDown', host: 'a', job: 'api' }, 'FIRING', { fingerprint: 'f2', at: NOW - 300_000 }),
      event({ alertname: 'ServiceDown', host: 'b', job: 'api' }, 'FIRING', { fingerprint: 'f3', at: NOW - 300_000 }),
      event({ alertname: 'DiskFull', host: 'c' }, 'FIRING', { fingerprint: 'f4', at: NOW - 60_000 }),
      event({ alertname: 'DiskFull', host: 'd' }, 'RESOLVED', { fingerprint: 'f5', at: NOW - 60_000 }),
    ],
    NOW - 1000,
  );
  return { app, core, published, setNow: (t: number) => (now = t) };
}

const silenceBody = (over: Record<string, unknown> = {}) => ({
  matchers: [{ name: 'host', value: 'b', isRegex: false, isEqual: true }],
  startsAt: iso(NOW),
  endsAt: iso(NOW + H),
  createdBy: 'alice',
  comment: 'maintenance',
  ...over,
});

describe('Alertmanager API v2: silences', () => {
  let close: (() => Promise<unknown>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('creates a silence ({silenceID}), shows it in the v2 shape and in /api/v1, and expires it with DELETE', async () => {
    const { app, published } = await setup();
    close = () => app.close();
    const r = await app.inject({ method: 'POST', url: '/api/v2/silences', payload: silenceBody() });
    expect(r.statusCode).toBe(200);
    const { silenceID } = r.json();
    expect(Object.keys(r.json())).toEqual(['silenceID']);
    expect(silenceID).toMatch(/^[0-9a-f-]{36}$/);
    const got = (await app.inject({ url: `/api/v2/silence/${silenceID}` })).json();
    expect(got).toEqual({
      id: silenceID,
      status: { state: 'active' },
      updatedAt: iso(NOW),
      matchers: [{ name: 'host', value: 'b', isRegex: false, isEqual: true }],
      startsAt: iso(NOW),
      endsAt: iso(NOW + H),
      createdBy: 'alice',
      comment: 'maintenance',
      annotations: {},
    });
    expect((await app.inject({ url: '/api/v1/silences' })).json()).toMatchObject([{ id: silenceID, matchers: [{ name: 'host', op: '=', value: 'b' }] }]);
    const del = await app.inject({ method: 'DELETE', url: `/api/v2/silence/${silenceID}` });
    expect(del.statusCode).toBe(200);
    expect((await app.inject({ url: `/api/v2/silence/${silenceID}` })).json()).toMatchObject({ status: { state: 'expired' }, endsAt: iso(NOW) });
    // Expiring again changes nothing.
    expect((await app.inject({ method: 'DELETE', url: `/api/v2/silence/${silenceID}` })).statusCode).toBe(200);
    expect(published.map((s) => [s.id, s.endsAt])).toEqual([[silenceID, NOW + H], [silenceID, NOW]]);
  });

  it('maps isRegex/isEqual to all four operators, and a start in the past to now', async () => {
    const { app, core } = await setup();
    close = () => app.close();
    const matchers = [
      { name: 'a', value: 'x', isRegex: false, isEqual: true },
      { name: 'b', value: 'x', isRegex: false, isEqual: false },
      { name: 'c', value: 'x.*', isRegex: true, isEqual: true },
      { name: 'd', value: 'x.*', isRegex: true },
      { name: 'e', value: 'y', isRegex: true, isEqual: false },
    ];
    const { silenceID } = (await app.inject({ method: 'POST', url: '/api/v2/silences', payload: silenceBody({ matchers, startsAt: iso(NOW - H) }) })).json();
    expect(core.silences.get(silenceID)!.matchers.map((m) => m.op)).toEqual(['=', '!=', '=~', '=~', '!~']);
    const got = (await app.inject({ url: `/api/v2/silence/${silenceID}` })).json();
    expect(got.startsAt).toBe(iso(NOW));
    expect(got.matchers.map((m: { isEqual: boolean }) => m.isEqual)).toEqual([true, false, true, true, false]);
  });

  it('updates in place when Alertmanager would (same matchers, active, same start) and replaces otherwise', async () => {
    const { app, core, setNow } = await setup();
    close = () => app.close();
    const post = (body: object) => app.inject({ method: 'POST', url: '/api/v2/silences', payload: body });
    const { silenceID: id } = (await post(silenceBody())).json();
    setNow(NOW + 60_000);
    // Longer end and a new comment: the same silence.
    const same = (await post(silenceBody({ id, endsAt: iso(NOW + 2 * H), comment: 'longer' }))).json();
    expect(same.silenceID).toBe(id);
    expect(core.silences.get(id)).toMatchObject({ endsAt: NOW + 2 * H, comment: 'longer', updatedAt: NOW + 60_000 });
    // Other matchers: a new silence; the old one expires.
    const replaced = (await post(silenceBody({ id, matchers: [{ name: 'host', value: 'c', isRegex: false }] }))).json();
    expect(replaced.silenceID).not.toBe(id);
    expect((await app.inject({ url: `/api/v2/silence/${id}` })).json().status.state).toBe('expired');
    const fresh = (await app.inject({ url: `/api/v2/silence/${replaced.silenceID}` })).json();
    expect(fresh).toMatchObject({ status: { state: 'active' }, startsAt: iso(NOW + 60_000), matchers: [{ name: 'host', value: 'c' }] });
    // An expired silence is never updated: posting it again creates another.
    const again = (await post(silenceBody({ id }))).json();
    expect(again.silenceID).not.toBe(id);
    expect((await app.inject({ url: `/api/v2/silence/${id}` })).json().status.state).toBe('expired');
  });

  it('updates a pending silence in place while it still starts in the future', async () => {
    const { app, setNow } = await setup();
    close = () => app.close();
    const post = (body: object) => app.inject({ method: 'POST', url: '/api/v2/silences', payload: body });
    const { silenceID: id } = (await post(silenceBody({ startsAt: iso(NOW + H), endsAt: iso(NOW + 2 * H) }))).json();
    expect((await app.inject({ url: `/api/v2/silence/${id}` })).json().status.state).toBe('pending');
    setNow(NOW + 60_000);
    expect((await post(silenceBody({ id, startsAt: iso(NOW + 30 * 60_000), endsAt: iso(NOW + 2 * H) }))).json().silenceID).toBe(id);
    // Moving its start into the past cannot be done in place.
    expect((await post(silenceBody({ id, startsAt: iso(NOW), endsAt: iso(NOW + 2 * H) }))).json().silenceID).not.toBe(id);
  });

  it('answers 404 for an unknown id and 400 with a message for bad input (a JSON string, as Alertmanager)', async () => {
    const { app, published } = await setup();
    close = () => app.close();
    const post = (body: object) => app.inject({ method: 'POST', url: '/api/v2/silences', payload: body });
    const unknown = await post(silenceBody({ id: 'no-such-silence' }));
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toBe('silence "no-such-silence" not found');
    expect((await app.inject({ url: '/api/v2/silence/nope' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'DELETE', url: '/api/v2/silence/nope' })).statusCode).toBe(404);
    const cases: [object, RegExp][] = [
      [silenceBody({ matchers: [] }), /"matchers": expected a non-empty list/],
      [silenceBody({ matchers: [{ name: 'a', value: '', isRegex: false }] }), /must not match the empty label set/],
      [silenceBody({ matchers: [{ name: 'a', value: '(', isRegex: true }] }), /"matchers\[0\]\.value": invalid regex/],
      [silenceBody({ endsAt: iso(NOW - 1000) }), /"endsAt": must be after startsAt|"endsAt": must be in the future/],
      [silenceBody({ createdBy: '' }), /"createdBy"/],
      [silenceBody({ comment: '' }), /"comment"/],
      [silenceBody({ annotations: { ticket: 'X-1' } }), /annotations are not supported/],
    ];
    for (const [body, message] of cases) {
      const r = await post(body);
      expect(r.statusCode, JSON.stringify(body)).toBe(400);
      expect(r.json()).toMatch(message);
    }
    const raw = await app.inject({ method: 'POST', url: '/api/v2/silences', headers: { 'content-type': 'application/json' }, payload: '{"matchers":' });
    expect(raw.statusCode).toBe(400);
    expect(typeof raw.json()).toBe('string');
    expect(published).toEqual([]);
  });

  it('lists silences sorted as Alertmanager does, filtered by matchers and by state', async () => {
    const { app, setNow } = await setup();
    close = () => app.close();
    const post = async (over: Record<string, unknown>) => (await app.inject({ method: 'POST', url: '/api/v2/silences', payload: silenceBody(over) })).json().silenceID as string;
    const active2h = await post({ endsAt: iso(NOW + 2 * H) });
    const active1h = await post({ matchers: [{ name: 'host', value: 'web.*', isRegex: true }] });
    const pending = await post({ startsAt: iso(NOW + H), endsAt: iso(NOW + 3 * H) });
    const expiredOld = await post({ endsAt: iso(NOW + 60_000) });
    const expiredNew = await post({ endsAt: iso(NOW + 120_000) });
    setNow(NOW + 180_000);
    const ids = async (query = '') => ((await app.inject({ url: `/api/v2/silences${query}` })).json() as { id: string }[]).map((s) => s.id);
    expect(await ids()).toEqual([active1h, active2h, pending, expiredNew, expiredOld]);
    expect(await ids('?expired=false')).toEqual([active1h, active2h, pending]);
    expect(await ids('?active=false&pending=false')).toEqual([expiredNew, expiredOld]);
    expect(await ids(`?filter=${encodeURIComponent('host=~"web.*"')}`)).toEqual([active1h]);
    expect(await ids(`?filter=${encodeURIComponent('host="b"')}&filter=${encodeURIComponent('host="x"')}`)).toEqual([]);
    expect(await ids(`?filter[]=${encodeURIComponent('host=b')}&expired=false`)).toEqual([active2h, pending]);
    const bad = await app.inject({ url: `/api/v2/silences?filter=${encodeURIComponent('host')}` });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toBe('bad matcher format: host');
    expect((await app.inject({ url: '/api/v2/silences?active=maybe' })).json()).toBe('active: expected true or false, got "maybe"');
  });

  it('answers 503 until the notifier has started', async () => {
    const app = Fastify();
    registerNotifyRoutes(app, () => undefined);
    close = () => app.close();
    const r = await app.inject({ url: '/api/v2/silences' });
    expect(r.statusCode).toBe(503);
    expect(r.json()).toBe('the notifier is starting');
  });
});

describe('Alertmanager API v2: alerts, groups, receivers, status', () => {
  let close: (() => Promise<unknown>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  const fps = (body: { fingerprint: string }[]) => body.map((a) => a.fingerprint);

  it('lists firing alerts (resolved left out) in the gettableAlert shape with receivers and status', async () => {
    const { app } = await setup();
    close = () => app.close();
    const alerts = (await app.inject({ url: '/api/v2/alerts' })).json();
    expect(fps(alerts)).toEqual(['f1', 'f2', 'f3', 'f4']);
    expect(alerts[0]).toEqual({
      labels: { alertname: 'NodeDown', host: 'a', severity: 'page' },
      annotations: {},
      receivers: [{ name: 'ops' }, { name: 'pager' }],
      fingerprint: 'f1',
      startsAt: iso(NOW - 600_000),
      updatedAt: iso(NOW - 1000),
      endsAt: '0001-01-01T00:00:00.000Z',
      generatorURL: 'http://vigil.example:9464/api/v1/alerts/f1/history',
      status: { state: 'active', silencedBy: [], inhibitedBy: [], mutedBy: [] },
    });
    // ServiceDown on host a is inhibited by NodeDown on host a.
    expect(alerts[1].status).toEqual({ state: 'suppressed', silencedBy: [], inhibitedBy: ['f1'], mutedBy: [] });
    expect(alerts[1].receivers).toEqual([{ name: 'ops' }]);
  });

  it('filters alerts by matchers, the active/silenced/inhibited flags and the receiver regex', async () => {
    const { app } = await setup();
    close = () => app.close();
    const { silenceID } = (await app.inject({ method: 'POST', url: '/api/v2/silences', payload: silenceBody() })).json();
    const get = async (q: string) => fps((await app.inject({ url: `/api/v2/alerts?${q}` })).json());
    expect((await app.inject({ url: '/api/v2/alerts?filter=host%3D%22b%22' })).json()[0].status).toEqual({ state: 'suppressed', silencedBy: [silenceID], inhibitedBy: [], mutedBy: [] });
    // amtool alert query's default: active=true, silenced=false, inhibited=false, unprocessed=false.
    expect(await get('active=true&silenced=false&inhibited=false&unprocessed=false')).toEqual(['f1', 'f4']);
    expect(await get('active=false')).toEqual(['f2', 'f3']);
    expect(await get('silenced=false')).toEqual(['f1', 'f2', 'f4']);
    expect(await get('inhibited=false')).toEqual(['f1', 'f3', 'f4']);
    expect(await get(`filter=${encodeURIComponent('alertname=~"Service.*"')}&filter=${encodeURIComponent('host!="a"')}`)).toEqual(['f3']);
    expect(await get(`filter=${encodeURIComponent('job=""')}`)).toEqual(['f1', 'f4']);
    expect(await get('receiver=pag.*')).toEqual(['f1']);
    expect(await get('receiver=pag')).toEqual([]);
    expect(await get(`receiver_matchers=${encodeURIComponent('team="x"')}`)).toEqual([]);
    expect((await app.inject({ url: '/api/v2/alerts?receiver=(' })).json()).toMatch(/^failed to parse receiver param: /);
  });

  it('lists the aggregation groups with their alerts, sorted as Alertmanager does', async () => {
    const { app } = await setup();
    close = () => app.close();
    const groups = (await app.inject({ url: '/api/v2/alerts/groups' })).json() as { labels: Record<string, string>; receiver: { name: string }; routeLabels: object; alerts: { fingerprint: string; receivers: { name: string }[] }[] }[];
    expect(groups.map((g) => [g.labels.alertname, g.receiver.name, g.alerts.map((a) => a.fingerprint)])).toEqual([
      ['DiskFull', 'ops', ['f4']],
      ['NodeDown', 'ops', ['f1']],
      ['NodeDown', 'pager', ['f1']],
      ['ServiceDown', 'ops', ['f2', 'f3']],
    ]);
    expect(groups[0]!.routeLabels).toEqual({});
    expect(groups[1]!.alerts[0]!.receivers).toEqual([{ name: 'ops' }, { name: 'pager' }]);
    const pager = (await app.inject({ url: '/api/v2/alerts/groups?receiver=pager' })).json();
    expect(pager.map((g: { receiver: { name: string } }) => g.receiver.name)).toEqual(['pager']);
    expect(pager[0].alerts[0].receivers).toEqual([{ name: 'pager' }]);
    const active = (await app.inject({ url: '/api/v2/alerts/groups?inhibited=false&muted=false' })).json();
    expect(active.map((g: { alerts: { fingerprint: string }[] }) => g.alerts.map((a) => a.fingerprint))).toEqual([['f4'], ['f1'], ['f1'], ['f3']]);
  });

  it('lists the receivers and gives a status whose config.original is the routes as Alertmanager YAML', async () => {
    const { app } = await setup();
    close = () => app.close();
    expect((await app.inject({ url: '/api/v2/receivers' })).json()).toEqual([{ name: 'ops', labels: {} }, { name: 'pager', labels: {} }]);
    expect((await app.inject({ url: `/api/v2/receivers?receiver_matchers=${encodeURIComponent('team="x"')}` })).json()).toEqual([]);
    const status = (await app.inject({ url: '/api/v2/status' })).json();
    expect(status).toMatchObject({ cluster: { status: 'disabled', peers: [] }, uptime: iso(NOW - H), versionInfo: { version: expect.stringMatching(/^\d+\.\d+\.\d+/) } });
    expect(Object.keys(status.versionInfo).sort()).toEqual(['branch', 'buildDate', 'buildUser', 'goVersion', 'revision', 'version']);
    const am = parseYaml(status.config.original);
    expect(am.route).toEqual({
      receiver: 'vigil-unrouted',
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: '4h',
      routes: [
        { receiver: 'pager', matchers: ['severity="page"'], group_by: ['alertname'], group_wait: '0s', group_interval: '5m', repeat_interval: '4h', continue: true },
        { receiver: 'ops', group_by: ['alertname'], group_wait: '0s', group_interval: '5m', repeat_interval: '4h', continue: false },
      ],
    });
    expect(am.receivers).toEqual([
      { name: 'vigil-unrouted' },
      { name: 'ops', webhook_configs: [{ url: 'http://unused.invalid', max_alerts: 0, send_resolved: true }] },
      { name: 'pager', pagerduty_configs: [{ routing_key: '<secret>', send_resolved: true }] },
    ]);
    expect(am.inhibit_rules).toEqual([{ source_matchers: ['alertname="NodeDown"'], target_matchers: ['alertname="ServiceDown"'], equal: ['host'] }]);
    expect(am.global).toMatchObject({ smtp_from: 'vigil@example.org', smtp_smarthost: 'outbox.invalid:25', pagerduty_url: 'https://events.pagerduty.com/v2/enqueue' });
  });
});
