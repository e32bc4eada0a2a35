import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import avro from 'avsc';
import { stackEnv, useStack } from '../../support/stack.js';
import { kcatRecords } from './kcat-records.js';
import { spawnVigil, type Child } from '../../support/child-process.js';
import { sourceKey } from '../../../src/kafka/publisher.js';
import { parseExposition } from '../../../src/collect/scrape/parse-exposition.js';
import type { SampleBatch } from '../../../src/model/types.js';

const START = Date.UTC(2026, 0, 1);

/** Resolves with the exit code once the process ends by itself (the test's timeout bounds it). */
function exitCode(child: Child): Promise<number | null> {
  const { proc } = child;
  if (proc.exitCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
}

describe('vigil produce', () => {
  const stack = useStack();
  let child: Child | undefined;
  afterEach(async () => {
    await child?.stop('SIGKILL');
    child = undefined;
  });

  it('publishes SampleBatch records that kcat reads in the wire format with a schema id the registry serves', async () => {
    child = spawnVigil(
      ['produce', '--duration', '10s', '--interval', '1s', '--speed', '2', '--start', new Date(START).toISOString(), '--faults', 'none'],
      stackEnv(stack, mkdtempSync(join(tmpdir(), 'vigil-produce-'))),
    );
    expect(await exitCode(child)).toBe(0);
    const stderr = child.stderr();
    // 10 s of event time at 2x: status lines (every 2 s) then the summary.
    expect(stderr).toMatch(/vigil produce: \+\d+s \| event 2026-01-01T00:00:0\d\.000Z \| [\d,]+ samples\/s \| [\d.]+ \w+\/s \| records/);
    expect(stderr).toMatch(/vigil produce: done in \d+s \| 1,200 samples in 100 records/);

    const topic = stack.config.topics.metrics;
    const records = await kcatRecords(stack.brokers, topic);
    expect(records).toHaveLength(100);
    const ids = new Set(records.map((r) => r.value.readInt32BE(1)));
    expect(records.every((r) => r.value[0] === 0)).toBe(true);
    expect(ids.size).toBe(1);
    const [id] = ids;
    const res = await fetch(`${stack.registryUrl}/schemas/ids/${id}`);
    expect(res.status).toBe(200);
    const writer = avro.Type.forSchema(JSON.parse(((await res.json()) as { schema: string }).schema));
    expect(writer.name).toBe('vigil.metrics.SampleBatch');
    const subject = await (await fetch(`${stack.registryUrl}/subjects/${topic}-value/versions/latest`)).json();
    expect(subject).toMatchObject({ id });

    const partitionOfKey = new Map<string, number>();
    const times = new Set<number>();
    let samples = 0;
    for (const r of records) {
      const batch = writer.fromBuffer(r.value.subarray(5)) as SampleBatch;
      expect(r.key).toBe(sourceKey(batch.source));
      expect(batch.source.env).toBe('prod');
      // Every record of a source goes to one partition.
      expect(partitionOfKey.get(r.key) ?? r.partition).toBe(r.partition);
      partitionOfKey.set(r.key, r.partition);
      samples += batch.samples.length;
      for (const s of batch.samples) times.add(s.timestamp);
    }
    expect(samples).toBe(1200);
    expect(partitionOfKey.size).toBe(10);
    expect([...times].sort()).toEqual(Array.from({ length: 10 }, (_, k) => START + k * 1000));
  });

  it('serves the hosts as Prometheus exporters listed in a file_sd file with --expose', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'vigil-fleet-')), 'targets.json');
    child = spawnVigil(['produce', '--expose', '--file-sd-out', file, '--pools', '1', '--hosts', '3', '--interval', '1s']);
    for (let i = 0; i < 900 && !existsSync(file); i++) {
      if (child.proc.exitCode !== null) throw new Error(`vigil produce exited early:\n${child.stderr()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!existsSync(file)) throw new Error(`no file_sd file after 90 s:\n${child.stderr()}`);
    const groups = JSON.parse(readFileSync(file, 'utf8')) as { targets: string[]; labels: Record<string, string> }[];
    expect(groups.map((g) => g.labels.host)).toEqual(['p1-h1', 'p1-h2', 'p1-h3']);
    for (const g of groups) {
      const res = await fetch(`http://${g.targets[0]}${g.labels.__metrics_path__}`);
      const parsed = parseExposition(await res.text(), 'prometheus');
      expect(parsed.ok && parsed.samples.map((s) => s.name)).toContain('cpu_load');
    }
    expect(await child.stop('SIGINT')).toBe(0);
    expect(child.stderr()).toMatch(/done in .* scrapes 3/);
  });

  it('fails with exit 1 and says what it could not reach when the registry is down', async () => {
    child = spawnVigil(['produce', '--duration', '10s'], { ...stackEnv(stack, mkdtempSync(join(tmpdir(), 'vigil-produce-'))), SCHEMA_REGISTRY_URL: 'http://127.0.0.1:9' });
    expect(await exitCode(child)).toBe(1);
    const topic = stack.config.topics.metrics;
    expect(child.stderr()).toContain(`vigil: cannot publish to "${topic}": Schema registry POST /subjects/${topic}-value/versions: fetch failed`);
  });

  it('rejects bad options with exit 1 and a message naming the option', async () => {
    child = spawnVigil(['produce', '--metrics', '5']);
    expect(await exitCode(child)).toBe(1);
    expect(child.stderr()).toContain('vigil: Invalid metrics per host "5": need an integer of at least 11');
  });
});
