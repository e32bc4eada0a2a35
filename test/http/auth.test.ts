import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { accessOf, ApiTokens, authorize, presentedToken } from '../../src/http/auth.js';
import { createHttpServer, httpServerOptions, type HttpServer } from '../../src/http/http-server.js';
import { registerUiRoutes } from '../../src/ui/ui-routes.js';

const ADMIN = 'admin-token-1';
const READER = 'read-token-1';
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe('API token policy', () => {
  it('classifies requests: public paths, reads (GET and the POST forms of Prometheus reads), writes', () => {
    const open = new Set(['/metrics', '/healthz']);
    expect(accessOf('GET', '/metrics', undefined, open)).toBe('public');
    expect(accessOf('GET', '/api/v1/auth', undefined, open)).toBe('public');
    expect(accessOf('POST', '/api/v1/write', undefined, open)).toBe('public');
    expect(accessOf('GET', '/api/v1/silences', undefined, open)).toBe('read');
    expect(accessOf('POST', '/api/v1/query', undefined, open)).toBe('read');
    expect(accessOf('POST', '/api/v1/query_range', undefined, open)).toBe('read');
    expect(accessOf('POST', '/api/v1/silences', undefined, open)).toBe('write');
    expect(accessOf('DELETE', '/api/v2/silence/x', undefined, open)).toBe('write');
    expect(accessOf('PUT', '/api/v1/rules', undefined, open)).toBe('write');
    // A percent-encoded spelling of a read path is not on the list: it falls to the stricter level.
    expect(accessOf('POST', '/api/v1/quer%79', undefined, open)).toBe('write');
    expect(accessOf('POST', '/x', 'read', open)).toBe('read');
  });

  it('decides 401 for a missing token, 403 for a wrong one or a read-only token on a write', () => {
    expect(authorize('write', 'none', false)).toMatchObject({ ok: false, status: 401 });
    expect(authorize('write', 'invalid', false)).toMatchObject({ ok: false, status: 403, message: 'the API token is not valid' });
    expect(authorize('write', 'read', false)).toMatchObject({ ok: false, status: 403, message: expect.stringContaining('may only read') });
    expect(authorize('write', 'admin', false)).toEqual({ ok: true });
    expect(authorize('read', 'none', false)).toEqual({ ok: true });
    expect(authorize('read', 'none', true)).toMatchObject({ ok: false, status: 401 });
    expect(authorize('read', 'read', true)).toEqual({ ok: true });
    expect(authorize('read', 'invalid', false)).toMatchObject({ ok: false, status: 403 });
    expect(authorize('public', 'invalid', true)).toEqual({ ok: true });
  });

  it('reads Bearer and Basic (token as password) credentials; keeps a malformed header to refuse it', () => {
    expect(presentedToken(undefined)).toBeUndefined();
    expect(presentedToken('Bearer abc')).toBe('abc');
    expect(presentedToken('bearer  abc ')).toBe('abc');
    expect(presentedToken(`Basic ${Buffer.from('grafana:abc').toString('base64')}`)).toBe('abc');
    expect(presentedToken('Token')).toBe('Token');
  });

  it('gives each token its role; a token in both lists is admin', () => {
    const t = new ApiTokens([ADMIN, 'both'], [READER, 'both']);
    expect(t.roleOf(ADMIN)).toBe('admin');
    expect(t.roleOf(READER)).toBe('read');
    expect(t.roleOf('both')).toBe('admin');
    expect(t.roleOf('nope')).toBeUndefined();
    expect(new ApiTokens([]).enabled).toBe(false);
  });

  it('takes api.tokens from VIGIL_API_TOKENS (comma-separated) over the file; defaults to none', () => {
    expect(loadConfig({ env: {} }).api).toEqual({ tokens: [], readTokens: [], protectReads: false, openPaths: ['/metrics', '/healthz'] });
    const config = loadConfig({ env: { VIGIL_API_TOKENS: ' a, b ,,' } });
    expect(config.api.tokens).toEqual(['a', 'b']);
    expect(httpServerOptions(config, 0)).toEqual({ port: 0, auth: config.api });
  });
});

describe('HTTP server with API tokens', () => {
  let server: HttpServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  function start(auth: Parameters<typeof createHttpServer>[0]['auth']): HttpServer {
    server = createHttpServer({ port: 0, host: '127.0.0.1', ...(auth ? { auth } : {}) });
    server.app.get('/api/v1/things', async () => ({ things: 1 }));
    server.app.post('/api/v1/things', async () => ({ changed: true }));
    server.app.post('/api/v1/query', async () => ({ status: 'success' }));
    server.app.post('/api/v1/lookup', { config: { access: 'read' } }, async () => ({ found: true }));
    return server;
  }

  it('is open without tokens and says so at /api/v1/auth', async () => {
    const s = start(undefined);
    expect((await s.app.inject({ method: 'POST', url: '/api/v1/things' })).statusCode).toBe(200);
    expect((await s.app.inject({ method: 'POST', url: '/api/v1/things', headers: bearer('anything') })).statusCode).toBe(200);
    expect((await s.app.inject({ url: '/api/v1/auth' })).json()).toEqual({ mode: 'open', protectReads: false, caller: 'none' });
  });

  it('answers a write without a token 401 with WWW-Authenticate: Bearer and a message naming the setting', async () => {
    const s = start({ tokens: [ADMIN] });
    const r = await s.app.inject({ method: 'POST', url: '/api/v1/things' });
    expect(r.statusCode).toBe(401);
    expect(r.headers['www-authenticate']).toBe('Bearer realm="vigil"');
    expect(r.json()).toEqual({
      status: 'error',
      errorType: 'unauthorized',
      error: 'this request changes state and needs an API token: send "Authorization: Bearer <token>" (tokens are set in api.tokens or VIGIL_API_TOKENS)',
    });
    const wrong = await s.app.inject({ method: 'POST', url: '/api/v1/things', headers: bearer('nope') });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.headers['www-authenticate']).toBeUndefined();
    expect(wrong.json()).toMatchObject({ errorType: 'forbidden', error: 'the API token is not valid' });
    expect((await s.app.inject({ method: 'POST', url: '/api/v1/things', headers: bearer(ADMIN) })).json()).toEqual({ changed: true });
    // Unknown routes are not revealed to a caller without a token.
    expect((await s.app.inject({ method: 'POST', url: '/api/v1/nothing' })).statusCode).toBe(401);
    expect((await s.app.inject({ method: 'POST', url: '/api/v1/nothing', headers: bearer(ADMIN) })).statusCode).toBe(404);
  });

  it('lets reads through without a token unless protectReads; a wrong token is refused on reads too', async () => {
    const s = start({ tokens: [ADMIN] });
    expect((await s.app.inject({ url: '/api/v1/things' })).statusCode).toBe(200);
    expect((await s.app.inject({ method: 'POST', url: '/api/v1/query' })).statusCode).toBe(200);
    expect((await s.app.inject({ method: 'POST', url: '/api/v1/lookup' })).statusCode).toBe(200);
    expect((await s.app.inject({ url: '/api/v1/things', headers: bearer('nope') })).statusCode).toBe(403);
    expect((await s.app.inject({ url: '/api/v1/auth', headers: bearer('nope') })).json()).toEqual({ mode: 'tokens', protectReads: false, caller: 'invalid' });
  });

  it('with protectReads needs a token for reads, accepts read-only tokens for them and refuses them writes', async () => {
    const s = start({ tokens: [ADMIN], readTokens: [READER], protectReads: true });
    const r = await s.app.inject({ url: '/api/v1/things' });
    expect(r.statusCode).toBe(401);
    expect(r.json().error).toMatch(/^this server needs an API token/);
    expect((await s.app.inject({ url: '/api/v1/things', headers: bearer(READER) })).statusCode).toBe(200);
    const write = await s.app.inject({ method: 'POST', url: '/api/v1/things', headers: bearer(READER) });
    expect(write.statusCode).toBe(403);
    expect(write.json().error).toMatch(/may only read/);
    expect((await s.app.inject({ url: '/api/v1/things', headers: { authorization: `Basic ${Buffer.from(`u:${ADMIN}`).toString('base64')}` } })).statusCode).toBe(200);
    expect((await s.app.inject({ url: '/api/v1/auth', headers: bearer(READER) })).json()).toEqual({ mode: 'tokens', protectReads: true, caller: 'read' });
  });

  it('keeps /metrics, /healthz and the UI page open; openPaths decides for /metrics and /healthz', async () => {
    const s = start({ tokens: [ADMIN], protectReads: true });
    await registerUiRoutes(s.app);
    for (const url of ['/metrics', '/healthz', '/', '/ui/app.js', '/vendor/uplot/uPlot.min.css', '/api/v1/auth']) {
      expect((await s.app.inject({ url })).statusCode, url).toBe(200);
    }
    await s.close();
    const strict = start({ tokens: [ADMIN], protectReads: true, openPaths: ['/healthz'] });
    expect((await strict.app.inject({ url: '/metrics' })).statusCode).toBe(401);
    expect((await strict.app.inject({ url: '/metrics', headers: bearer(ADMIN) })).statusCode).toBe(200);
    expect((await strict.app.inject({ url: '/healthz' })).statusCode).toBe(200);
  });

  it('checks requests over a real socket the same way (fetch)', async () => {
    const s = start({ tokens: [ADMIN] });
    await s.listen();
    const r = await fetch(`${s.url()}/api/v1/things`, { method: 'POST' });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe('Bearer realm="vigil"');
    expect((await fetch(`${s.url()}/api/v1/things`, { method: 'POST', headers: bearer(ADMIN) })).status).toBe(200);
  });
});
