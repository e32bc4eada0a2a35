import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FleetModel } from '../../src/fleet/fleet-model.js';
import { FleetExporter, hostPath } from '../../src/fleet/fleet-exporter.js';
import { prometheusName, renderExposition } from '../../src/fleet/exposition.js';
import { parseExposition } from '../../src/collect/scrape/parse-exposition.js';

const START = Date.UTC(2026, 0, 1);
let exporter: FleetExporter | undefined;

afterEach(async () => {
  await exporter?.close();
  exporter = undefined;
});

function fleet() {
  return new FleetModel({ pools: 2, hostsPerPool: 2, metricsPerHost: 14, seed: 3, startTime: START, intervalMs: 10_000 });
}

describe('renderExposition', () => {
  it('maps dotted names to Prometheus names and escapes label values', () => {
    expect(prometheusName('cpu.load')).toBe('cpu_load');
    expect(prometheusName('job:errors:rate5m')).toBe('job:errors:rate5m');
    expect(prometheusName('1x')).toBe('_1x');
    const text = renderExposition([
      { name: 'a.b', labels: { v: 'q"\\\n' }, timestamp: 1, value: NaN, kind: 'GAUGE' },
      { name: 'a.b', labels: {}, timestamp: 1, value: Infinity, kind: 'GAUGE' },
      { name: 'c', labels: {}, timestamp: 1, value: 3, kind: 'COUNTER' },
    ]);
    expect(text).toBe('# TYPE a_b gauge\na_b{v="q\\"\\\\\\n"} NaN\na_b +Inf\n# TYPE c counter\nc 3\n');
  });

  it('produces text a Prometheus 0.0.4 parser accepts, with every sample of the host', () => {
    const m = fleet();
    const { samples } = m.sampleHost(0, START);
    const parsed = parseExposition(renderExposition(samples), 'prometheus');
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    // Samples come grouped by metric family, as 0.0.4 requires.
    const key = (x: unknown[]) => JSON.stringify(x);
    expect(parsed.samples.map((s) => key([s.name, s.labels, s.value, s.kind])).sort()).toEqual(
      samples.map((s) => key([prometheusName(s.name), s.labels, s.value, s.kind])).sort(),
    );
  });
});

describe('FleetExporter', () => {
  it('serves each host on its own path and lists them as file_sd targets', async () => {
    const m = fleet();
    exporter = new FleetExporter(m.hosts);
    for (const t of m.tick(START)) exporter.update(t);
    const port = await exporter.listen(0);
    const file = join(mkdtempSync(join(tmpdir(), 'vigil-fleet-')), 'targets.json');
    await exporter.writeFileSd(file);
    const groups = JSON.parse(readFileSync(file, 'utf8'));
    expect(groups).toHaveLength(4);
    expect(groups[1]).toEqual({
      targets: [`127.0.0.1:${port}`],
      labels: { pool: 'p1', host: 'p1-h2', env: 'prod', instance: 'p1-h2', __metrics_path__: '/hosts/p1-h2/metrics' },
    });
    for (const g of groups) {
      const res = await fetch(`http://${g.targets[0]}${g.labels.__metrics_path__}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const parsed = parseExposition(await res.text(), 'prometheus');
      expect(parsed.ok && parsed.samples.find((s) => s.name === 'heartbeat')?.labels.instance).toBe(g.labels.host);
    }
    expect(exporter.scrapes).toBe(4);
    expect(await (await fetch(`${exporter.url}/file_sd.json`)).json()).toEqual(groups);
    expect(await (await fetch(`${exporter.url}/`)).text()).toContain(hostPath('p2-h1'));
  });

  it('serves the latest tick of a host', async () => {
    const m = fleet();
    exporter = new FleetExporter(m.hosts);
    await exporter.listen(0);
    const url = `${exporter.url}${hostPath('p1-h1')}`;
    expect((await fetch(url)).status).toBe(503);
    for (const t of m.tick(START)) exporter.update(t);
    const first = await (await fetch(url)).text();
    let last = '';
    for (const t of m.tick(START + 10_000)) {
      exporter.update(t);
      if (t.host.host === 'p1-h1') last = renderExposition(t.samples);
    }
    const second = await (await fetch(url)).text();
    expect(second).toBe(last);
    expect(second).not.toBe(first);
  });

  it('answers unknown paths, hosts and methods with clear errors', async () => {
    exporter = new FleetExporter(fleet().hosts);
    await exporter.listen(0);
    const nohost = await fetch(`${exporter.url}/hosts/nope/metrics`);
    expect(nohost.status).toBe(404);
    expect(await nohost.text()).toContain('No simulated host "nope"');
    const nopath = await fetch(`${exporter.url}/metrics`);
    expect(nopath.status).toBe(404);
    expect(await nopath.text()).toContain('/hosts/<host>/metrics');
    const post = await fetch(`${exporter.url}${hostPath('p1-h1')}`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
  });
});
