import { writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createHttpServer, httpServerOptions, type HttpServer } from '../../src/http/http-server.js';
import { TlsConfigError } from '../../src/http/tls.js';
import { makeTestCerts, type TestCerts } from './test-certs.js';

let certs: TestCerts;
beforeAll(() => {
  certs = makeTestCerts();
});
afterAll(() => certs?.remove());

interface Reply {
  status: number;
  body: string;
}

/** GET over HTTPS trusting the test CA, optionally with a client certificate. */
function get(url: string, opts: { client?: 'client' | 'stranger'; ca?: boolean; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const client = opts.client === 'client' ? { cert: certs.read(certs.clientCertFile), key: certs.read(certs.clientKeyFile) }
      : opts.client === 'stranger' ? { cert: certs.read(certs.strangerCertFile), key: certs.read(certs.strangerKeyFile) } : {};
    const req = request(url, { ...(opts.ca === false ? {} : { ca: certs.read(certs.caFile) }), ...client, headers: opts.headers ?? {}, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTPS from certificate files', () => {
  let server: HttpServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function start(tls: Parameters<typeof createHttpServer>[0]['tls'], auth?: Parameters<typeof createHttpServer>[0]['auth']): Promise<HttpServer> {
    server = createHttpServer({ port: 0, host: '127.0.0.1', ...(tls ? { tls } : {}), ...(auth ? { auth } : {}) });
    server.app.get('/api/v1/things', async () => ({ things: 1 }));
    await server.listen();
    return server;
  }

  it('serves HTTPS with the configured certificate (verified against the test CA); plain HTTP is refused', async () => {
    const s = await start({ certFile: certs.certFile, keyFile: certs.keyFile });
    expect(s.url()).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const r = await get(`${s.url()}/api/v1/things`);
    expect(r).toEqual({ status: 200, body: '{"things":1}' });
    await expect(get(`${s.url()}/api/v1/things`, { ca: false })).rejects.toThrow(/self.signed|unable to verify|certificate/i);
    await expect(fetch(`${s.url().replace('https:', 'http:')}/api/v1/things`)).rejects.toThrow();
  });

  it('combines with API tokens', async () => {
    const s = await start({ certFile: certs.certFile, keyFile: certs.keyFile }, { tokens: ['t1'], protectReads: true });
    expect((await get(`${s.url()}/api/v1/things`)).status).toBe(401);
    expect((await get(`${s.url()}/api/v1/things`, { headers: { authorization: 'Bearer t1' } })).status).toBe(200);
  });

  it('with a client CA requires a client certificate from that CA', async () => {
    const s = await start({ certFile: certs.certFile, keyFile: certs.keyFile, clientCAFile: certs.caFile });
    expect((await get(`${s.url()}/api/v1/things`, { client: 'client' })).status).toBe(200);
    await expect(get(`${s.url()}/api/v1/things`)).rejects.toThrow(/certificate|socket hang up|ECONNRESET/i);
    await expect(get(`${s.url()}/api/v1/things`, { client: 'stranger' })).rejects.toThrow(/certificate|socket hang up|ECONNRESET|unknown ca/i);
  });

  it('with VerifyClientCertIfGiven lets a client without a certificate in and refuses a foreign one (403)', async () => {
    const s = await start({ certFile: certs.certFile, keyFile: certs.keyFile, clientCAFile: certs.caFile, clientAuth: 'VerifyClientCertIfGiven' });
    expect((await get(`${s.url()}/api/v1/things`)).status).toBe(200);
    expect((await get(`${s.url()}/api/v1/things`, { client: 'client' })).status).toBe(200);
    const stranger = await get(`${s.url()}/api/v1/things`, { client: 'stranger' });
    expect(stranger.status).toBe(403);
    expect(JSON.parse(stranger.body).error).toMatch(/^the client certificate is not valid: /);
  });

  it('names the setting of a file it cannot read, and a client auth type without a CA', () => {
    expect(() => createHttpServer({ port: 0, tls: { certFile: '/nonexistent/cert.pem', keyFile: certs.keyFile } })).toThrow(TlsConfigError);
    expect(() => createHttpServer({ port: 0, tls: { certFile: '/nonexistent/cert.pem', keyFile: certs.keyFile } })).toThrow(/^http\.tls\.certFile: cannot read "\/nonexistent\/cert\.pem"/);
    expect(() => createHttpServer({ port: 0, tls: { certFile: certs.certFile, keyFile: certs.keyFile, clientAuth: 'VerifyClientCertIfGiven' } })).toThrow(/needs http\.tls\.clientCAFile/);
  });

  it('takes http.tls from the config file and names a bad key', () => {
    expect(httpServerOptions(loadConfig({ env: {} })).tls).toBeUndefined();
    const path = join(certs.dir, 'vigil.yaml');
    writeFileSync(path, `http:\n  tls:\n    certFile: ${certs.certFile}\n    keyFile: ${certs.keyFile}\n    clientCAFile: ${certs.caFile}\n`);
    expect(httpServerOptions(loadConfig({ path, env: {} })).tls).toEqual({ certFile: certs.certFile, keyFile: certs.keyFile, clientCAFile: certs.caFile });
    writeFileSync(path, `http:\n  tls:\n    certFile: a.pem\n    keyFile: b.pem\n    clientAuth: Sometimes\n`);
    expect(() => loadConfig({ path, env: {} })).toThrow(/"http\.tls\.clientAuth"/);
  });
});
