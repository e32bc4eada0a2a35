/**
 * A child process for the crash test: archives a deterministic record stream into a local archive,
 * "committing" the input offset to a file the way the Kafka writer commits to the group. With
 * PAUSE_AT_PUT=n it stops forever right before storing its n-th object (the Parquet file complete in
 * the temp dir, not yet renamed), so the parent can SIGKILL it in the middle of a write.
 * With ROLLUPS=1 the stream is 1m rollup records in which the engine replays, at new offsets, the
 * last 10 records after every 50 (what an engine crash re-sends), instead of raw samples.
 */
import { readFile, writeFile, rename } from 'node:fs/promises';
import { SeriesTable } from '../../../src/model/decoded-batch.js';
import { ArchiveSink } from '../../../src/sinks/archive/archive-sink.js';
import { hourStartOf } from '../../../src/sinks/archive/layout.js';
import { ParquetWriter } from '../../../src/sinks/archive/parquet-writer.js';
import { LocalStore } from '../../../src/sinks/archive/storage/local-store.js';
import { decodedBatch, fleetRecords, rollupRecords } from '../../sinks/archive/sink-fixtures.js';

const [root, commitFile, count] = process.argv.slice(2) as [string, string, string];
const pauseAt = Number(process.env.PAUSE_AT_PUT ?? 0);
const rollups = process.env.ROLLUPS === '1';
const resolution = rollups ? '1m' : 'raw';

let puts = 0;
const writer = await ParquetWriter.open({ rowGroupSize: 2048 });
const sink = new ArchiveSink({
  store: new LocalStore(root),
  writer,
  maxRowsPerFile: 2000,
  closeGraceMs: 60_000,
  beforePut: async (key) => {
    if (++puts === pauseAt) {
      process.stdout.write(`PAUSED ${key}\n`);
      await new Promise(() => undefined);
    }
  },
});

async function commit(): Promise<void> {
  const next = sink.committable(resolution, 0);
  if (next === undefined) return;
  await writeFile(`${commitFile}.tmp`, String(next));
  await rename(`${commitFile}.tmp`, commitFile);
}

/** The topic's records: raw sample batches, or rollup records with the engine's replays. */
function stream(): { length: number; add: (table: SeriesTable, offset: number) => Promise<void> } {
  if (!rollups) {
    const records = fleetRecords(Number(count), 8, 20);
    return {
      length: records.length,
      add: async (table, off) => {
        const batch = decodedBatch(table, 0, off, records[off]!);
        await sink.prepare('raw', 0, ArchiveSink.hoursOfBatch(batch));
        sink.addRaw(0, off, batch, 0);
      },
    };
  }
  const original = rollupRecords(Math.ceil(Number(count) / 8), 8, 20, Date.UTC(2026, 10, 25, 9, 30));
  const records = original.flatMap((r, i) => ((i + 1) % 50 === 0 ? [r, ...original.slice(i - 9, i + 1)] : [r]));
  return {
    length: records.length,
    add: async (_table, off) => {
      const r = records[off]!;
      await sink.prepare('1m', 0, new Set(r.map((x) => hourStartOf(x.start))));
      sink.addRollups('1m', 0, off, r, 0);
    },
  };
}

const records = stream();
const from = Number(await readFile(commitFile, 'utf8').catch(() => '0'));
const table = new SeriesTable();
for (let off = from; off < records.length; off++) {
  await records.add(table, off);
  const due = sink.due(0);
  if (due.length > 0) {
    await sink.flush(due);
    await commit();
  }
}
await sink.flush(sink.all());
await commit();
writer.close();
process.stdout.write('DONE\n');
