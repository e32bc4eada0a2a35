/**
 * A clean stop flushes the archive (issue 13, defect 9). `vigil run` as a child process on a Kafka of
 * this test, SIGTERM once every sample is buffered (nothing due yet: the hour is open and far from
 * `flushAfter`): afterwards every sample is in a file and the archive's offsets are committed.
 * `vigil start` with its simulated fleet, SIGINT once raw and 1m rows are buffered: afterwards the
 * files of each resolution hold exactly the rows of the records below the committed offsets.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../../src/kafka/client.js';
import { HOUR_MS, hourStartOf } from '../../../src/sinks/archive/layout.js';
import { spawnVigil } from '../../support/child-process.js';
import { stackEnv, useStack } from '../../support/stack.js';
import { startDir, startVigil } from '../start/vigil-start.js';
import { archiveRows, committedOffsets, endOffsets, publishSamples, rowsBelow, sampleRecords } from './archive-kafka-fixtures.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** The value of an unlabelled metric in a Prometheus text page, or undefined. */
function metricValue(page: string, name: string): number | undefined {
  const m = new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(page);
  return m ? Number(m[1]) : undefined;
}

/** Polls `url`/metrics until `name` (with its labels, e.g. `x{a="b"}`) passes `ok`. */
async function waitForMetric(url: string, name: string, ok: (v: number | undefined) => boolean, stderr: () => string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last: number | undefined;
  while (Date.now() < end) {
    last = metricValue(await (await fetch(`${url}/metrics`)).text(), name);
    if (ok(last)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${name} (last ${last}); stderr:\n${stderr().slice(-2000)}`);
}

describe('vigil run stopped by SIGTERM', () => {
  const stack = useStack({ partitions: 2 });

  it('writes every buffered archive row as files and commits the offsets before it exits', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-stop-flush-'));
    dirs.push(dir);
    const kafka = createKafka(stack.brokers, 'stop-flush-test');
    // 300 hosts x 6 ticks x 100 metrics = 180,000 samples inside one minute of an hour three hours ago:
    // no 1m window closes, no hour closes, and flushAfter (5m) is far: nothing is due before the stop.
    const t0 = hourStartOf(Date.now()) - 3 * HOUR_MS;
    const records = sampleRecords(t0, 300, 6, 100);
    await publishSamples(kafka, stack.registryUrl, stack.config.topics.metrics, records);

    const child = spawnVigil(['run', '--commit-interval', '500'], {
      ...stackEnv(stack, dir),
      VIGIL_STATE_DIR: join(dir, 'state'),
      VIGIL_ARCHIVE: join(dir, 'archive'),
      VIGIL_HTTP_PORT: '0',
      VIGIL_LOG_LEVEL: 'info',
    });
    try {
      const started = await child.waitFor(/engine started \(.*\); http (\S+)/, 90_000);
      await waitForMetric(started[1]!, 'vigil_archive_buffered_rows', (v) => v === 180_000, () => child.stderr(), 60_000);
      expect(await child.stop('SIGTERM', 60_000)).toBe(0);
    } finally {
      if (child.proc.exitCode === null) await child.stop('SIGKILL');
    }
    expect(await archiveRows(join(dir, 'archive'), 'raw')).toEqual({ n: 180_000, distinct: 180_000 });
    const topic = stack.config.topics.metrics;
    expect(await committedOffsets(kafka, `${stack.config.kafka.clientId}-archive`, topic)).toEqual(await endOffsets(kafka, topic));
    // The stop said what it wrote.
    expect(child.stdout() + child.stderr()).toMatch(/archive: flushing 180000 buffered rows/);
  });
});

describe('vigil start stopped by SIGINT', () => {
  const stack = useStack({ partitions: 2 });

  it('writes every buffered raw and rollup row as files and commits the offsets before it exits', async () => {
    const dir = startDir();
    dirs.push(dir);
    // The fleet backfills 3 minutes at once (1m windows close, rollups reach the archive) and goes on in real time.
    const vigil = await startVigil(dir, ['--no-pull', '--pools', '1', '--hosts', '3', '--metrics', '12', '--interval', '10s', '--backfill', '3m'], {
      ...stackEnv(stack, dir),
      VIGIL_LOG_LEVEL: 'info',
    });
    const exited = new Promise<number | string>((resolve) => vigil.proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
    try {
      for (const resolution of ['raw', '1m']) {
        await waitForMetric(vigil.url, `vigil_archive_rows_received_total{resolution="${resolution}"}`, (v) => (v ?? 0) > 0, () => vigil.stderr(), 90_000);
      }
      vigil.proc.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      await vigil.stop(5_000);
    }
    expect(vigil.stdout() + vigil.stderr()).toMatch(/archive: stop flush wrote \d+ rows/);
    const kafka = createKafka(stack.brokers, 'stop-flush-test');
    const root = join(dir, 'data', 'archive');
    const t = stack.config.topics;
    for (const [topic, resolution, kind] of [[t.metrics, 'raw', 'samples'], [t.rollup1m, '1m', 'rollups'], [t.rollup1h, '1h', 'rollups']] as const) {
      const committed = await committedOffsets(kafka, `${stack.config.kafka.clientId}-archive`, topic);
      const expected = await rowsBelow(kafka, stack.registryUrl, topic, kind, committed);
      if (resolution !== '1h') expect(expected, resolution).toBeGreaterThan(0);
      expect(await archiveRows(root, resolution), resolution).toEqual({ n: expected, distinct: expected });
    }
  });
});
