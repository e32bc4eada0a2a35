/** `vigil archive query / retention / compact` as a user runs them, on a directory and on S3 (s3rver). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeriesTable } from '../../../src/model/decoded-batch.js';
import { ArchiveSink } from '../../../src/sinks/archive/archive-sink.js';
import { ParquetWriter } from '../../../src/sinks/archive/parquet-writer.js';
import { LocalStore } from '../../../src/sinks/archive/storage/local-store.js';
import { S3Store } from '../../../src/sinks/archive/storage/s3-store.js';
import type { ObjectStore } from '../../../src/sinks/archive/storage/object-store.js';
import { spawnVigil } from '../../support/child-process.js';
import { decodedBatch, fleetRecords } from '../../sinks/archive/sink-fixtures.js';
import { startS3, type TestS3 } from './s3rver-helper.js';

let dir: string;
let s3: TestS3;
const START = Date.UTC(2020, 0, 1, 10); // old enough to be expired and closed

async function fill(store: ObjectStore): Promise<void> {
  const writer = await ParquetWriter.open();
  const sink = new ArchiveSink({ store, writer, maxRowsPerFile: 100 });
  const table = new SeriesTable();
  const records = fleetRecords(120, 4, 5, START); // 30 ticks of 10 s, 600 rows, parts of 20 records
  for (let off = 0; off < records.length; off++) {
    const batch = decodedBatch(table, 0, off, records[off]!);
    await sink.prepare('raw', 0, ArchiveSink.hoursOfBatch(batch));
    sink.addRaw(0, off, batch, 0);
  }
  await sink.flush(sink.all());
  writer.close();
}

async function vigil(args: string[], env: Record<string, string>): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const child = spawnVigil(args, env);
  const code = await new Promise<number | string>((resolve) => child.proc.once('exit', (c, s) => resolve(c ?? s ?? -1)));
  return { code, stdout: child.stdout(), stderr: child.stderr() };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-cli-archive-'));
  s3 = await startS3();
  await fill(new LocalStore(dir));
  const s3store = new S3Store({ url: `s3://${s3.bucket}/arch`, endpoint: s3.endpoint, client: s3.client });
  await fill(s3store);
  await s3store.close();
});
afterAll(async () => {
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('vigil archive', () => {
  it('query prints CSV/JSON/table over a directory, with hive columns', async () => {
    const env = { VIGIL_ARCHIVE: dir };
    const csv = await vigil(['archive', 'query', 'SELECT name, count(*) AS n FROM raw WHERE hour = 10 AND date = DATE \'2020-01-01\' GROUP BY name ORDER BY name', '--format', 'csv'], env);
    expect(csv.code).toBe(0);
    expect(csv.stdout).toBe('name,n\nm0,120\nm1,120\nm2,120\nm3,120\nm4,120\n');
    const json = await vigil(['archive', 'query', 'SELECT count(*)::INTEGER AS n, min(resolution) AS r FROM raw', '--format', 'json'], env);
    expect(JSON.parse(json.stdout)).toEqual([{ n: 600, r: 'raw' }]);
    const bad = await vigil(['archive', 'query', 'SELECT nope FROM raw'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/vigil: .*nope/);
  });

  it('query reads an S3 archive through the local cache', async () => {
    const env = { ...s3.env, VIGIL_ARCHIVE: `s3://${s3.bucket}/arch`, TMPDIR: dir };
    const r = await vigil(['archive', 'query', 'SELECT count(*)::INTEGER AS n FROM raw'], env);
    expect(r.stderr).toMatch(/downloaded \d+ objects/);
    expect(r.stdout).toContain('600');
    expect(r.code).toBe(0);
  });

  it('compact merges the parts, then retention --dry-run lists and retention deletes the expired hour', async () => {
    const env = { ...s3.env, VIGIL_ARCHIVE: `s3://${s3.bucket}/arch` };
    const compact = await vigil(['archive', 'compact'], env);
    expect(compact.code).toBe(0);
    expect(compact.stdout).toMatch(/merged 6 parts into resolution=raw\/date=2020-01-01\/hour=10\/part-0-0-119\.parquet: 600 rows/);
    const dry = await vigil(['archive', 'retention', '--dry-run'], env);
    expect(dry.stdout).toMatch(/would delete resolution=raw\/date=2020-01-01\/hour=10\/ \(1 objects/);
    const real = await vigil(['archive', 'retention'], env);
    expect(real.stdout).toMatch(/deleted 1 hours, 1 objects/);
    const left = await vigil(['archive', 'query', 'SELECT count(*)::INTEGER AS n FROM raw', '--format', 'json'], env);
    expect(JSON.parse(left.stdout)).toEqual([{ n: 0 }]);
  });
});
