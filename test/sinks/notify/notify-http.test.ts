import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { registerNotifyRoutes, type NotifyApiDeps } from '../../../src/sinks/notify/notify-http.js';
import type { Ack } from '../../../src/sinks/notify/acks.js';
import type { Silence } from '../../../src/sinks/notify/silences.js';
import { event, makeCore, webhook } from './fixtures.js';

const NOW = Date.UTC(2026, 0, 1);

function setup(ready = true) {
  const { core } = makeCore({ receivers: [webhook('ops')], routes: [{ match: [], receivers: ['ops'], groupWaitMs: 0 }], inhibits: [] });
  const published: (Silence | Ack)[] = [];
  const deps: NotifyApiDeps = {
    core,
    now: () => NOW,
    publishSilence: async (s) => void published.push(s),
    publishAck: async (a) => void published.push(a),
  };
  const app = Fastify();
  registerNotifyRoutes(app, ready ? deps : () => undefined);
  return { app, core, published };
}

describe('notifier HTTP API', () => {
  let close: (() => Promise<unknown>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('creates, updates, lists and expires silences; publishes each change', async () => {
    const { app, published } = setup();
    close = () => app.close();
    const body = { matchers: [{ name: 'host', value: 'a', isRegex: false }], endsAt: new Date(NOW + 3_600_000).toISOString(), createdBy: 'alice', comment: 'c' };
    const created = await app.inject({ method: 'POST', url: '/api/v1/silences', payload: body });
    expect(created.statusCode).toBe(200);
    const id = created.json().silenceID as string;
    const updated = await app.inject({ method: 'PUT', url: `/api/v1/silences/${id}`, payload: { ...body, comment: 'longer' } });
    expect(updated.json().silence).toMatchObject({ id, comment: 'longer', status: { state: 'active' } });
    expect((await app.inject({ method: 'POST', url: '/api/v1/silences', payload: { ...body, id: 'nope' } })).json()).toMatchObject({ field: 'id' });
    const list = (await app.inject({ url: '/api/v1/silences' })).json();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id, matchers: [{ name: 'host', op: '=', value: 'a' }], startsAt: new Date(NOW).toISOString() });
    const expired = await app.inject({ method: 'DELETE', url: `/api/v1/silences/${id}` });
    expect(expired.json()).toMatchObject({ status: { state: 'expired' }, endsAt: new Date(NOW).toISOString() });
    expect((await app.inject({ method: 'PUT', url: `/api/v1/silences/${id}`, payload: body })).json()).toMatchObject({ field: 'id' });
    expect(published.map((s) => (s as Silence).comment)).toEqual(['c', 'longer', 'longer']);
    expect((await app.inject({ url: '/api/v1/silences/unknown' })).statusCode).toBe(404);
  });

  it('answers 400 naming the wrong field', async () => {
    const { app } = setup();
    close = () => app.close();
    const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, payload: payload as object });
    const r1 = await post('/api/v1/silences', { matchers: [{ name: 'host', value: '(' , isRegex: true }], endsAt: NOW + 1000, createdBy: 'a', comment: 'c' });
    expect(r1.statusCode).toBe(400);
    expect(r1.json()).toMatchObject({ field: 'matchers[0].value' });
    expect((await post('/api/v1/silences', { matchers: [{ name: 'h', value: 'x' }], endsAt: NOW + 1000, comment: 'c' })).json()).toMatchObject({ field: 'createdBy' });
    expect((await post('/api/v1/acks', { fingerprint: 'nope', author: 'bob' })).json()).toMatchObject({ field: 'fingerprint' });
    const raw = await app.inject({ method: 'POST', url: '/api/v1/acks', headers: { 'content-type': 'application/json' }, payload: '{"fingerprint":' });
    expect(raw.statusCode).toBe(400);
  });

  it('acknowledges and shows alerts and their history', async () => {
    const { app, core } = setup();
    close = () => app.close();
    await core.ingest([event({ host: 'a' }, 'FIRING', { fingerprint: 'fa', at: NOW })], NOW);
    await core.tick(NOW);
    const ack = await app.inject({ method: 'POST', url: '/api/v1/acks', payload: { fingerprint: 'fa', author: 'bob', comment: 'mine' } });
    expect(ack.json()).toMatchObject({ fingerprint: 'fa', author: 'bob', comment: 'mine', at: NOW });
    expect((await app.inject({ url: '/api/v1/notifier/alerts' })).json()).toMatchObject([{ fingerprint: 'fa', status: 'firing', acked: true, silencedBy: [] }]);
    const h = (await app.inject({ url: '/api/v1/alerts/fa/history' })).json();
    expect(h.history.map((e: { type: string }) => e.type)).toEqual(['transition', 'notification', 'ack', 'notification']);
    expect((await app.inject({ url: '/api/v1/alerts/zz/history' })).statusCode).toBe(404);
  });

  it('answers 503 until the notifier has started', async () => {
    const { app } = setup(false);
    close = () => app.close();
    expect((await app.inject({ url: '/api/v1/silences' })).statusCode).toBe(503);
  });
});
