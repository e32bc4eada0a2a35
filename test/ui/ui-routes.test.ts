import { afterEach, describe, expect, it } from 'vitest';
import { createHttpServer, type HttpServer } from '../../src/http/http-server.js';
import { registerUiRoutes } from '../../src/ui/ui-routes.js';
import { buildUi } from './build-ui.js';

describe('registerUiRoutes', () => {
  let server: HttpServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('serves the page, its assets and uPlot', async () => {
    server = createHttpServer({ port: 0, host: '127.0.0.1' });
    await registerUiRoutes(server.app);
    await server.listen();
    const page = await fetch(`${server.url()}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    for (const asset of ['/ui/app.js', '/ui/style.css', '/vendor/uplot/uPlot.iife.min.js', '/vendor/uplot/uPlot.min.css']) {
      expect(html).toContain(asset);
      const res = await fetch(server.url() + asset);
      expect(res.status, asset).toBe(200);
    }
  });

  it('serves the PromQL editor bundle that npm run build writes to dist/ui-build, without a token', async () => {
    await buildUi();
    server = createHttpServer({ port: 0, host: '127.0.0.1', auth: { tokens: ['t'], protectReads: true } });
    await registerUiRoutes(server.app);
    await server.listen();
    const res = await fetch(`${server.url()}/ui-build/promql-editor.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('javascript');
    expect(await res.text()).toContain('createPromqlEditor');
    // Read every body: an unread one keeps its connection busy and close() waiting.
    const map = await fetch(`${server.url()}/ui-build/promql-editor.js.map`);
    expect(map.status).toBe(200);
    expect(JSON.parse(await map.text()).version).toBe(3);
    const refused = await fetch(`${server.url()}/api/v1/anything`);
    expect(refused.status).toBe(401);
    await refused.text();
  }, 60_000);

  it('answers 404 for a file that is not there', async () => {
    server = createHttpServer({ port: 0, host: '127.0.0.1' });
    await registerUiRoutes(server.app);
    await server.listen();
    expect((await fetch(`${server.url()}/ui/nope.js`)).status).toBe(404);
  });
});
