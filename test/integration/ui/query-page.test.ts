/**
 * The query page in Debian's chromium against Vigil's real query API over an archive fixture: the
 * PromQL editor (CodeMirror with @prometheus-io/codemirror-promql) completes metric names and label
 * values from Vigil's own API, runs the query and draws it with uPlot; the Vigil rules language is
 * still one select away; on a server with API tokens a 401 opens the token dialog and the query
 * runs once a token is entered.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
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
import { buildUi } from '../../ui/build-ui.js';

// One closed hour of cpu.load for 6 hosts in 3 pools, long ago (the Vigil-language tests pin the page
// to it with `end`), and the hour before last of node_load1 for the same hosts: recent enough for the
// editor's completion, which asks for label values of the last 12 hours by the browser's clock.
const T0 = Date.UTC(2026, 10, 20, 10);
const END_S = T0 / 1000 + 3600;
const RECENT = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 2 * 3_600_000;
const LABELS = ['a', 'b', 'c'].flatMap((pool) => [1, 2].map((n) => ({ pool, host: `${pool}${n}` })));
const SHOTS = process.env.VIGIL_UI_SCREENSHOTS;
const TOKEN = 'ui-test-token';
// The editor asks /api/v1/metadata for metric help texts; the query API answers it from the PromQL
// work (issue 15), until then with 404, which completion tolerates.
const METADATA_404 = /status of 404 \(Not Found\) \(http:\/\/127\.0\.0\.1:\d+\/api\/v1\/metadata\)/;

let root: string;
let archive: ArchiveQuery;
let open: HttpServer;
let guarded: HttpServer;
let browser: TestBrowser;

async function serve(auth?: { tokens: string[]; protectReads: boolean }): Promise<HttpServer> {
  const server = createHttpServer({ port: 0, host: '127.0.0.1', ...(auth ? { auth } : {}) });
  await registerQueryRoutes(server.app, { source: new CombinedSource(new ArchiveSource(archive), new Head()) });
  await registerUiRoutes(server.app);
  await server.listen();
  return server;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'vigil-ui-query-'));
  const wave = (s: number, t: number) => 1 + s * 0.3 + 0.5 * Math.sin(t / 300_000 + s);
  await Promise.all([
    writeArchiveFixture({ root, t0: T0, hours: 1, labels: LABELS, metrics: [{ name: 'cpu.load', value: wave }] }),
    writeArchiveFixture({ root, t0: RECENT, hours: 1, labels: LABELS, metrics: [{ name: 'node_load1', value: wave }] }),
    buildUi(),
  ]);
  archive = await ArchiveQuery.open(openObjectStore({ root }));
  [open, guarded, browser] = await Promise.all([serve(), serve({ tokens: [TOKEN], protectReads: true }), launchBrowser()]);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await open?.close();
  await guarded?.close();
  archive?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

const vigilPage = (server: HttpServer, q: string) => `${server.url()}/#/query?${new URLSearchParams({ q, lang: 'vigil', range: '3600', end: String(END_S) })}`;

/** The labels of the open completion list. */
async function completions(page: Page): Promise<string[]> {
  const list = page.locator('.cm-tooltip-autocomplete');
  await list.waitFor();
  return list.locator('.cm-completionLabel').allInnerTexts();
}

/** Picks a completion with the mouse (CodeMirror ignores keys in the first 75 ms of a new list). */
async function pick(page: Page, label: string): Promise<void> {
  await page.locator('.cm-tooltip-autocomplete li', { has: page.locator('.cm-completionLabel', { hasText: new RegExp(`^${label}$`) }) }).click();
  await expect.poll(() => page.locator('.cm-tooltip-autocomplete').count()).toBe(0);
}

/** Errors the page logged since `from`, less the expected ones. */
function pageErrors(from: number, expected: RegExp[] = []): string[] {
  return browser.errors.slice(from).filter((e) => !expected.some((re) => re.test(e)));
}

describe('query page: PromQL editor', () => {
  it('completes metric names and label values from Vigil’s API, runs the query and draws it', async () => {
    const page = await browser.newPage();
    const asked: string[] = [];
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.pathname.startsWith('/api/v1/')) asked.push(u.pathname);
    });
    const errors = browser.errors.length;
    await page.goto(`${open.url()}/#/query`);
    const editor = page.locator('#query-editor .cm-content');
    await editor.waitFor();
    expect(await page.locator('select[name=lang]').inputValue()).toBe('promql');
    await editor.click();
    await page.keyboard.type('avg(node_lo');
    expect(await completions(page)).toContain('node_load1');
    await pick(page, 'node_load1');
    // Closing brackets and quotes are typed by the editor itself.
    await page.keyboard.type('{pool="');
    expect((await completions(page)).sort()).toEqual(['a', 'b', 'c']);
    expect(asked).toContain('/api/v1/label/pool/values');
    await pick(page, 'b');
    await page.keyboard.press('End');
    await page.keyboard.type(' by (pool');
    await page.keyboard.press('End');
    await expect.poll(() => page.locator('.cm-tooltip-autocomplete').count()).toBe(0);
    expect(await editor.innerText()).toBe('avg(node_load1{pool="b"}) by (pool)');
    await page.selectOption('select[name=range]', '21600');
    await editor.click();
    await page.keyboard.press('End');
    // Enter runs the query.
    await page.keyboard.press('Enter');
    const chart = page.locator('#chart[data-points]');
    await chart.waitFor();
    // The fixture's one hour at the 6 h range's 120 s step: 30 points (a few more with PromQL's 5 m lookback).
    expect(Number(await chart.getAttribute('data-points'))).toBeGreaterThanOrEqual(30);
    await expect.poll(() => page.locator('#chart canvas').count()).toBeGreaterThan(0);
    expect(await page.locator('#chart .u-legend').textContent()).toContain('pool=b');
    expect(await page.locator('#query-table tbody tr').count()).toBe(1);
    const hash = new URLSearchParams(new URL(page.url()).hash.replace(/^#\/query\?/, ''));
    expect(Object.fromEntries(hash)).toEqual({ q: 'avg(node_load1{pool="b"}) by (pool)', lang: 'promql', range: '21600' });
    expect(await page.locator('#auth').innerText()).toBe('open: no API tokens');
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'vigil-query-promql.png'), fullPage: true });
    expect(pageErrors(errors, [METADATA_404])).toEqual([]);
    await page.close();
  });

  it('marks a PromQL syntax error in the editor', async () => {
    const page = await browser.newPage();
    await page.goto(`${open.url()}/#/query`);
    const editor = page.locator('#query-editor .cm-content');
    await editor.click();
    await page.keyboard.type('sum(node_load1 by');
    await page.locator('#query-editor .cm-lintRange-error').first().waitFor();
    await page.close();
  });

  it('on a server with API tokens, a 401 opens the token dialog and the query runs with the token entered', async () => {
    const page = await browser.newPage();
    const errors = browser.errors.length;
    await page.goto(`${guarded.url()}/#/query?${new URLSearchParams({ q: 'avg(node_load1) by (pool)', range: '21600' })}`);
    const dialog = page.locator('dialog#token-dialog');
    await dialog.waitFor();
    expect(await dialog.locator('h2').innerText()).toBe('This needs an API token');
    expect(await dialog.locator('#token-reason').innerText()).toMatch(/needs an API token: send "Authorization: Bearer <token>"/);
    await dialog.locator('input[name=token]').fill('wrong');
    await dialog.locator('button[type=submit]').click();
    await expect.poll(async () => (await dialog.count()) && dialog.locator('h2').innerText()).toBe('The API token was refused');
    await dialog.locator('input[name=token]').fill(TOKEN);
    await dialog.locator('button[type=submit]').click();
    const chart = page.locator('#chart[data-points]');
    await chart.waitFor();
    expect(await page.locator('#query-table tbody tr').count()).toBe(3);
    expect(await page.evaluate(() => sessionStorage.getItem('vigil.token'))).toBe(TOKEN);
    await expect.poll(() => page.locator('#auth').innerText()).toMatch(/^token: full access/);
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'vigil-query-token.png'), fullPage: true });
    // The browser logs the refused requests; nothing else went wrong.
    expect(pageErrors(errors, [/status of 401 \(Unauthorized\)/, /status of 403 \(Forbidden\)/, METADATA_404])).toEqual([]);
    await page.close();
  });
});

describe('query page: Vigil rules language', () => {
  it('draws the series of a query with uPlot', async () => {
    const page = await browser.newPage();
    const errors = browser.errors.length;
    await page.goto(vigilPage(open, 'avg(cpu.load) by (pool)'));
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
    expect(await page.locator('select[name=lang]').inputValue()).toBe('vigil');
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'vigil-query-page.png'), fullPage: true });
    expect(pageErrors(errors)).toEqual([]);
    await page.close();
  });

  it('shows a bad query’s error with its position', async () => {
    const page = await browser.newPage();
    const bad = 'avg(cpu.load by (pool)';
    await page.goto(vigilPage(open, bad));
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
