/**
 * The archive is idempotent for replays (issue 13, defect 2): the engine re-sends the rollup records
 * of its last commit after a crash, same content at NEW offsets; the archive re-reads its own input
 * from the committed offset after its crash, same records at the SAME offsets. Either way the archive
 * rows equal those of a run without the replay, also across archive restarts and crashes between
 * writing a file and committing its offsets.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Rollup } from '../../../src/model/types.js';
import { ArchiveSink, type ArchiveSinkOptions } from '../../../src/sinks/archive/archive-sink.js';
import { hourStartOf } from '../../../src/sinks/archive/layout.js';
import { LocalStore } from '../../../src/sinks/archive/storage/local-store.js';
import { readBack } from './archive-fixtures.js';
import { useArchiveDir } from './archive-dir.js';
import { rollupRecords } from './sink-fixtures.js';

const archive = useArchiveDir('vigil-replay-');

const NOW = 1_000_000;
/** 30 windows 10:50 .. 11:19 of 3 hosts x 4 series: 90 records, 360 rows; hour 10 closes at 11:01. */
const RECORDS = rollupRecords(30);

function sink(options: Partial<ArchiveSinkOptions> = {}, s: LocalStore = archive.store): ArchiveSink {
  return new ArchiveSink({ store: s, writer: archive.writer, closeGraceMs: 60_000, ...options });
}

/** Feeds `records` to `sink` as consecutive records from `offset` on; returns the next offset. */
async function feed(target: ArchiveSink, records: readonly Rollup[][], offset: number, partition = 0): Promise<number> {
  for (const r of records) {
    await target.prepare('1m', partition, new Set(r.map((x) => hourStartOf(x.start))));
    target.addRollups('1m', partition, offset++, r, NOW);
  }
  return offset;
}

async function rowsIn(root: string): Promise<Record<string, unknown>[]> {
  return readBack(
    `SELECT name, labels['host'] AS host, epoch_ms("start")::DOUBLE AS start, "count", "sum", "min", "max", "first", "last", "increase" ` +
      `FROM read_parquet('${root}/resolution=1m/**/*.parquet') ORDER BY ALL`,
  );
}

/** The rows of a run of RECORDS without any replay, in a directory of its own. */
let expected: Record<string, unknown>[];
beforeAll(async () => {
  const clean = await mkdtemp(join(tmpdir(), 'vigil-replay-clean-'));
  const s = new ArchiveSink({ store: new LocalStore(clean), writer: archive.writer, closeGraceMs: 60_000 });
  await feed(s, RECORDS, 0);
  await s.flush(s.all());
  expected = await rowsIn(clean);
  await rm(clean, { recursive: true, force: true });
  expect(expected.length).toBe(360);
});

describe('ArchiveSink replays', () => {
  it('rollup records replayed at new offsets while the originals are buffered add no rows', async () => {
    const s = sink();
    let offset = await feed(s, RECORDS.slice(0, 40), 0);
    // The engine crashed after sending records 31..39 and re-sends them (then goes on).
    offset = await feed(s, RECORDS.slice(31, 40), offset);
    offset = await feed(s, RECORDS.slice(40), offset);
    await s.flush(s.all());
    expect(await rowsIn(archive.dir)).toEqual(expected);
    expect(s.committable('1m', 0)).toBe(offset);
  });

  it('rollup records replayed after the originals were written add no rows', async () => {
    const s = sink();
    let offset = await feed(s, RECORDS.slice(0, 50), 0);
    await s.flush(s.all());
    offset = await feed(s, RECORDS.slice(20, 50), offset);
    offset = await feed(s, RECORDS.slice(50), offset);
    await s.flush(s.all());
    expect(await rowsIn(archive.dir)).toEqual(expected);
  });

  it('rollup records replayed after an archive restart add no rows (the windows are read back from the files)', async () => {
    const first = sink();
    let offset = await feed(first, RECORDS.slice(0, 50), 0);
    await first.flush(first.all());
    const committed = first.committable('1m', 0)!;
    expect(committed).toBe(offset);
    // A new process: it resumes at the committed offset, where the engine's replay follows.
    const second = sink();
    offset = await feed(second, RECORDS.slice(35, 50), committed);
    offset = await feed(second, RECORDS.slice(50), offset);
    await second.flush(second.all());
    expect(await rowsIn(archive.dir)).toEqual(expected);
  });

  it('a crash between writing a file and committing its offsets, then a replay, adds no rows', async () => {
    const first = sink({ maxRowsPerFile: 100 });
    const end = await feed(first, [...RECORDS.slice(0, 45), ...RECORDS.slice(40, 45)], 0);
    await first.flush(first.due(NOW));
    const committed = first.committable('1m', 0)!;
    // Files written past the committed offset, then the process dies before committing.
    await first.flush(first.all());
    expect(first.committable('1m', 0)).toBe(end);
    expect(committed).toBeLessThan(end);
    const written = (await archive.store.list('')).map((o) => o.key);

    // The restart re-reads its input from the committed offset (the same records at the same
    // offsets, the engine's earlier replay included), then the engine replays again at new offsets.
    const second = sink({ maxRowsPerFile: 100 });
    let offset = await feed(second, [...RECORDS.slice(0, 45), ...RECORDS.slice(40, 45)].slice(committed), committed);
    expect(offset).toBe(end);
    expect(second.bufferedRows).toBe(0);
    offset = await feed(second, RECORDS.slice(42, 45), offset);
    offset = await feed(second, RECORDS.slice(45), offset);
    await second.flush(second.all());
    expect(await rowsIn(archive.dir)).toEqual(expected);
    const keys = (await archive.store.list('')).map((o) => o.key);
    expect(keys.slice(0, written.length)).toEqual(written);
  });

  it('a replay into a closed hour that was forgotten is checked against that hour read back from its files', async () => {
    const lists: string[] = [];
    const store = archive.store;
    const counting = Object.assign(Object.create(store) as LocalStore, {
      list: (prefix: string) => {
        lists.push(prefix);
        return store.list(prefix);
      },
    });
    const s = sink({}, counting);
    // Up to 11:10: hour 10 closes (11:01), is written, and forgotten at the next `due`.
    let offset = await feed(s, RECORDS.slice(0, 63), 0);
    await s.flush(s.due(NOW));
    await s.flush(s.due(NOW));
    const hour10 = lists.filter((p) => p.includes('hour=10')).length;
    offset = await feed(s, RECORDS.slice(24, 33), offset); // windows 10:58 .. 11:00
    expect(lists.filter((p) => p.includes('hour=10')).length).toBe(hour10 + 1);
    offset = await feed(s, RECORDS.slice(63), offset);
    await s.flush(s.all());
    expect(await rowsIn(archive.dir)).toEqual(expected);
  });

  it('the same window twice in one record is archived once', async () => {
    const s = sink();
    const twice = [...RECORDS.slice(0, 3), [...RECORDS[3]!, ...RECORDS[3]!], ...RECORDS.slice(4)];
    await feed(s, twice, 0);
    await s.flush(s.all());
    expect(await rowsIn(archive.dir)).toEqual(expected);
  });
});
