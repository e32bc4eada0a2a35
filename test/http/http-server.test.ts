import { afterEach, describe, expect, it } from 'vitest';
import { createHttpServer, type HttpServer } from '../../src/http/http-server.js';
import { counter } from '../../src/obs/metrics.js';

describe('createHttpServer', () => {
  let server: HttpServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('serves the shared registry on /metrics in Prometheus text format', async () => {
    server = createHttpServer({ port: 0, host: '127.0.0.1' });
    counter('vigil_test_http_total', 'a counter for this test').inc(3);
    await server.listen();
    const res = await fetch(`${server.url()}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(await res.text()).toMatch(/^vigil_test_http_total 3$/m);
  });

  it('answers /healthz 200 when every check passes and 503 naming the failing one', async () => {
    server = createHttpServer({ port: 0, host: '127.0.0.1' });
    let kafkaOk = true;
    server.addHealthCheck('kafka', () => ({ ok: kafkaOk, detail: kafkaOk ? 'connected' : 'no broker' }));
    await server.listen();
    const good = await fetch(`${server.url()}/healthz`);
    expect(good.status).toBe(200);
    expect(await good.json()).toEqual({ status: 'ok', checks: { kafka: { ok: true, detail: 'connected' } } });
    kafkaOk = false;
    const bad = await fetch(`${server.url()}/healthz`);
    expect(bad.status).toBe(503);
    expect((await bad.json()).checks.kafka).toEqual({ ok: false, detail: 'no broker' });
  });

  it('reports a throwing check as unhealthy with its message', async () => {
    server = createHttpServer({ port: 0, host: '127.0.0.1' });
    server.addHealthCheck('archive', () => {
      throw new Error('disk gone');
    });
    await server.listen();
    const res = await fetch(`${server.url()}/healthz`);
    expect(res.status).toBe(503);
    expect((await res.json()).checks.archive).toEqual({ ok: false, detail: 'disk gone' });
  });
});
