import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadScrapeConfig, parseDuration, type ScrapeJob } from '../../src/collect/scrape/scrape-config.js';
import { buildTargets } from '../../src/collect/scrape/targets.js';
import { readTargetFile } from '../../src/collect/sd/file-sd.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function file(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-scrape-config-'));
  dirs.push(dir);
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('scrape config (Prometheus shape)', () => {
  it('reads jobs with global defaults, file_sd paths relative to the file, static configs', () => {
    const path = file(
      'prometheus.yml',
      [
        'global:',
        '  scrape_interval: 30s',
        '  evaluation_interval: 1m',
        'scrape_configs:',
        '  - job_name: node',
        '    file_sd_configs:',
        '      - files: [targets/*.json]',
        '        refresh_interval: 1m',
        '  - job_name: api',
        '    scrape_interval: 5s',
        '    metrics_path: /stats',
        '    scheme: https',
        '    honor_labels: true',
        '    params: {format: [prometheus]}',
        '    static_configs:',
        '      - targets: ["api:443"]',
        '        labels: {team: x}',
      ].join('\n'),
    );
    const [node, api] = loadScrapeConfig(path);
    expect(node).toMatchObject({ name: 'node', intervalMs: 30_000, timeoutMs: 10_000, metricsPath: '/metrics', scheme: 'http', honorLabels: false });
    expect(node!.fileSd).toEqual([{ files: [join(path, '..', 'targets/*.json')], refreshIntervalMs: 60_000 }]);
    expect(api).toMatchObject({ intervalMs: 5000, timeoutMs: 5000, metricsPath: '/stats', scheme: 'https', honorLabels: true, params: { format: ['prometheus'] } });
    expect(api!.staticGroups[0]).toMatchObject({ targets: ['api:443'], labels: { team: 'x' } });
  });

  it('refuses what it does not support and bad values, naming the key', () => {
    const relabel = file('a.yml', 'scrape_configs:\n  - job_name: x\n    relabel_configs: []\n');
    expect(() => loadScrapeConfig(relabel)).toThrow(`${relabel}: "scrape_configs.0": unsupported key "relabel_configs"`);
    const timeout = file('b.yml', 'scrape_configs:\n  - job_name: x\n    scrape_interval: 5s\n    scrape_timeout: 10s\n');
    expect(() => loadScrapeConfig(timeout)).toThrow('job "x": scrape timeout (10000 ms) is greater than the scrape interval (5000 ms)');
    const dup = file('c.yml', 'scrape_configs:\n  - job_name: x\n  - job_name: x\n');
    expect(() => loadScrapeConfig(dup)).toThrow('duplicate job name "x"');
    const bad = file('d.yml', 'scrape_configs:\n  - job_name: x\n    scrape_interval: soon\n');
    expect(() => loadScrapeConfig(bad)).toThrow('"scrape_configs.0.scrape_interval": expected a duration');
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('15')).toBeUndefined();
  });
});

describe('file_sd files', () => {
  it('reads JSON and YAML and reports bad ones', async () => {
    expect(await readTargetFile(file('t.json', '[{"targets":["h:1","[::1]:9100"],"labels":{"a":"b"}}]'))).toMatchObject([
      { targets: ['h:1', '[::1]:9100'], labels: { a: 'b' } },
    ]);
    expect(await readTargetFile(file('t.yaml', '- targets: [h:2]\n'))).toMatchObject([{ targets: ['h:2'], labels: {} }]);
    await expect(readTargetFile(file('t.json', '[{"targets":["http://h:1/x"]}]'))).rejects.toThrow('"0.targets.0": expected host:port (no scheme or path)');
    await expect(readTargetFile(file('t.json', '[{"targets":["h:1"],"labels":{"1a":"x"}}]'))).rejects.toThrow('invalid label name');
    await expect(readTargetFile(file('t.json', '[{"targets":["h:1"],"extra":1}]'))).rejects.toThrow('"0"');
    await expect(readTargetFile(file('t.json', '{'))).rejects.toThrow(/^invalid JSON/);
    await expect(readTargetFile(file('t.txt', '[]'))).rejects.toThrow('unsupported file extension ".txt"');
  });
});

describe('buildTargets', () => {
  const job: ScrapeJob = {
    name: 'node', intervalMs: 15_000, timeoutMs: 10_000, metricsPath: '/metrics', scheme: 'http', honorLabels: false, honorTimestamps: true,
    params: { module: ['if_mib'] }, fileSd: [], staticGroups: [],
  };

  it('applies Prometheus target label rules without relabeling', () => {
    const { targets, problems } = buildTargets(job, [
      { targets: ['h1:9100', 'h1:9100'], labels: { dc: 'x' }, source: 's' },
      { targets: ['h2:9100'], labels: { job: 'custom', instance: 'h2', __metrics_path__: '/probe', __scheme__: 'https', __param_target: 'y', __scrape_interval__: '5s', __scrape_timeout__: '1s' }, source: 's' },
      { targets: ['h3:9100'], labels: { __scrape_timeout__: '20s' }, source: 'f:2' },
    ]);
    expect(problems).toEqual(['f:2: target h3:9100: invalid __scrape_interval__/__scrape_timeout__']);
    expect(targets.map((t) => [t.url, t.labels, t.intervalMs, t.timeoutMs])).toEqual([
      ['http://h1:9100/metrics?module=if_mib', { dc: 'x', instance: 'h1:9100', job: 'node' }, 15_000, 10_000],
      ['https://h2:9100/probe?module=if_mib&target=y', { instance: 'h2', job: 'custom' }, 5000, 1000],
    ]);
  });
});
