import { describe, expect, it } from 'vitest';
import { jobsFromFlags } from '../../src/cli/commands/collect.js';
import { spawnVigil } from '../support/child-process.js';

const flags = {
  job: 'file_sd', interval: '15s', metricsPath: '/metrics', scheme: 'http', honorTimestamps: true, refreshInterval: '5m',
  shard: true, group: 'g', statusInterval: '10s', staleMarkers: true,
};

describe('vigil collect flags', () => {
  it('builds one job from --file-sd and the job flags', () => {
    const [job] = jobsFromFlags({ ...flags, fileSd: ['a.json', 'b.yml'], interval: '5s', honorLabels: true });
    expect(job).toMatchObject({ name: 'file_sd', intervalMs: 5000, timeoutMs: 5000, honorLabels: true, fileSd: [{ files: ['a.json', 'b.yml'], refreshIntervalMs: 300_000 }] });
  });

  it('refuses bad values with a message naming the flag', () => {
    expect(() => jobsFromFlags({ ...flags, fileSd: ['a.json'], interval: 'often' })).toThrow('--interval must be a duration such as 15s, 1m or 500ms, got "often"');
    expect(() => jobsFromFlags({ ...flags, fileSd: ['a.json'], interval: '5s', timeout: '10s' })).toThrow('scrape timeout (10000 ms) is greater than the scrape interval (5000 ms)');
    expect(() => jobsFromFlags({ ...flags, fileSd: ['a.json'], scheme: 'ftp' })).toThrow('--scheme must be http or https');
    expect(() => jobsFromFlags({ ...flags, scrapeConfig: '/nonexistent/prometheus.yml' })).toThrow('/nonexistent/prometheus.yml: ENOENT');
  });

  it('exits 1 with a message when there is nothing to do', async () => {
    const child = spawnVigil(['collect'], { VIGIL_PUSH_TOKENS: '' });
    expect(await child.stop('SIGCONT', 30_000).catch(() => -1)).toBeDefined();
    expect(child.proc.exitCode).toBe(1);
    expect(child.stderr()).toContain('vigil: nothing to do: give --file-sd FILE...');
  });
});
