import { afterEach, describe, expect, it } from 'vitest';
import { createHttpServer, type HttpServer } from '../../src/http/http-server.js';
import { registerUiRoutes } from '../../src/ui/ui-routes.js';

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

  it('answers 404 for a file that is not there', async () => {
    server = createHttpServer({ port: 0, host: '127.0.0.1' });
    await registerUiRoutes(server.app);
    await server.listen();
    expect((await fetch(`${server.url()}/ui/nope.js`)).status).toBe(404);
  });
});
