import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer, type HttpServer } from '../../../src/http/http-server.js';
import { ArchiveSource } from '../../../src/query/archive-source.js';
import { CombinedSource } from '../../../src/query/combined-source.js';
import { Head } from '../../../src/query/head.js';
import { registerQueryRoutes } from '../../../src/query/query-routes.js';
import { ArchiveQuery } from '../../../src/sinks/archive/archive-query.js';
import { openObjectStore } from '../../../src/sinks/archive/storage/open-store.js';
import { registerUiRoutes } from '../../../src/ui/ui-routes.js';
import { writeArchiveFixture } from '../../support/archive-fixture.js';
import { launchBrowser, type TestBrowser } from '../../support/browser.js';

// One closed hour of cpu.load for 6 hosts in 3 pools; the page is pinned to it with `end`.
const T0 = Date.UTC(2026, 10, 20, 10);
const END_S = T0 / 1000 + 3600;
const LABELS = ['a', 'b', 'c'].flatMap((pool) => [1, 2].map((n) => ({ pool, host: `${pool}${n}` })));
const SHOTS = process.env.VIGIL_UI_SCREENSHOTS;

let root: string;
let archive: ArchiveQuery;
let server: HttpServer;
let browser: TestBrowser;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'vigil-ui-query-'));
  await writeArchiveFixture({
    root,
    t0: T0,
    hours: 1,
    labels: LABELS,
    metrics: [{ name: 'cpu.load', value: (s, t) => 1 + s * 0.3 + 0.5 * Math.sin(t / 300_000 + s) }],
  });
  archive = await ArchiveQuery.open(openObjectStore({ root }));
  server = createHttpServer({ port: 0, host: '127.0.0.1' });
  await registerQueryRoutes(server.app, { source: new CombinedSource(new ArchiveSource(archive), new Head()), now: () => T0 + 48 * 3_600_000 });
  await registerUiRoutes(server.app);
  await server.listen();
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  archive?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

const queryPage = (q: string) => `${server.url()}/#/query?${new URLSearchParams({ q, range: '3600', end: String(END_S) })}`;

describe('query page', () => {
  it('draws the series of a query with uPlot', async () => {
    const page = await browser.newPage();
    await page.goto(queryPage('avg(cpu.load) by (pool)'));
    const chart = page.locator('#chart[data-points]');
    await chart.waitFor();
    // 1h at the page's 15 s step: 240 windows per pool, 3 pools.
    expect(await chart.getAttribute('data-points')).toBe(String(3 * 240));
    await expect.poll(() => page.locator('#chart canvas').count()).toBeGreaterThan(0);
    const legend = await page.locator('#chart .u-legend').textContent();
    for (const pool of ['pool=a', 'pool=b', 'pool=c']) expect(legend).toContain(pool);
    const rows = page.locator('#query-table tbody tr');
    expect(await rows.count()).toBe(3);
    expect(await rows.first().innerText()).toContain('240');
    expect(await page.locator('#query-end').innerText()).toContain(new Date(END_S * 1000).toISOString());
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'vigil-query-page.png'), fullPage: true });
    expect(browser.errors, browser.errors.join('\n')).toEqual([]);
    await page.close();
  });

  it('shows a bad query’s error with its position', async () => {
    const page = await browser.newPage();
    const bad = 'avg(cpu.load by (pool)';
    await page.goto(queryPage(bad));
    const error = page.locator('#chart .query-error');
    await error.waitFor();
    const text = await error.innerText();
    const m = /^query:1:(\d+): /.exec(text);
    expect(m, text).not.toBeNull();
    // The caret under the expression points at the reported column (1-based in the message).
    const lines = text.split('\n');
    expect(lines.at(-2)).toBe(bad);
    expect(lines.at(-1)).toBe(`${' '.repeat(Number(m![1]) - 1)}^`);
    expect(await page.locator('#chart').getAttribute('data-points')).toBeNull();
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'vigil-query-error.png') });
    await page.close();
  });
});
