/**
 * The notifier's state-changing routes (create, update and expire silences; acknowledge) on a server
 * with API tokens: refused without a valid admin token, while the lists stay readable.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpServer, type HttpServer } from '../../src/http/http-server.js';
import { registerNotifyRoutes } from '../../src/sinks/notify/notify-http.js';
import { event, makeCore, webhook } from '../sinks/notify/fixtures.js';

const NOW = Date.UTC(2026, 0, 1);
const ADMIN = 'ops-admin';
const READER = 'ops-reader';

describe('notifier API behind API tokens', () => {
  let server: HttpServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function setup() {
    const { core } = makeCore({ receivers: [webhook('ops')], routes: [{ match: [], receivers: ['ops'], groupWaitMs: 0 }], inhibits: [] });
    await core.ingest([event({ alertname: 'Down', host: 'a' }, 'FIRING', { fingerprint: 'fa', at: NOW })], NOW);
    const published: unknown[] = [];
    server = createHttpServer({ port: 0, host: '127.0.0.1', auth: { tokens: [ADMIN], readTokens: [READER] } });
    registerNotifyRoutes(server.app, {
      core,
      now: () => NOW,
      publishSilence: async (s) => void published.push(s),
      publishAck: async (a) => void published.push(a),
    });
    return { app: server.app, published };
  }

  const silence = { matchers: [{ name: 'host', value: 'a', isRegex: false }], endsAt: new Date(NOW + 3_600_000).toISOString(), createdBy: 'alice', comment: 'maintenance' };

  it('refuses silence and ack changes without a token (401) or with a wrong or read-only one (403)', async () => {
    const { app, published } = await setup();
    const writes = [
      { method: 'POST' as const, url: '/api/v1/silences', payload: silence },
      { method: 'PUT' as const, url: '/api/v1/silences/some-id', payload: silence },
      { method: 'DELETE' as const, url: '/api/v1/silences/some-id' },
      { method: 'POST' as const, url: '/api/v1/acks', payload: { fingerprint: 'fa', author: 'bob' } },
      { method: 'POST' as const, url: '/api/v2/silences', payload: silence },
      { method: 'DELETE' as const, url: '/api/v2/silence/some-id' },
    ];
    for (const w of writes) {
      const none = await app.inject(w);
      expect(none.statusCode, `${w.method} ${w.url}`).toBe(401);
      expect(none.headers['www-authenticate']).toBe('Bearer realm="vigil"');
      for (const token of ['wrong', READER]) {
        expect((await app.inject({ ...w, headers: { authorization: `Bearer ${token}` } })).statusCode, `${w.method} ${w.url} ${token}`).toBe(403);
      }
    }
    expect(published).toEqual([]);
    expect((await app.inject({ url: '/api/v1/silences' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/v1/notifier/alerts' })).json()).toMatchObject([{ fingerprint: 'fa', acked: false }]);
  });

  it('lets an admin token create and expire a silence and acknowledge', async () => {
    const { app, published } = await setup();
    const headers = { authorization: `Bearer ${ADMIN}` };
    const created = await app.inject({ method: 'POST', url: '/api/v1/silences', payload: silence, headers });
    expect(created.statusCode).toBe(200);
    const id = created.json().silenceID as string;
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/silences/${id}`, headers })).json()).toMatchObject({ status: { state: 'expired' } });
    expect((await app.inject({ method: 'POST', url: '/api/v1/acks', payload: { fingerprint: 'fa', author: 'bob' }, headers })).statusCode).toBe(200);
    expect(published).toHaveLength(3);
  });
});
