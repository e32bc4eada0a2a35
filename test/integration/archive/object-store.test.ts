/** One contract for every ObjectStore: the local directory and S3 (against s3rver). */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalStore } from '../../../src/sinks/archive/storage/local-store.js';
import { replaceObjects, type ObjectStore } from '../../../src/sinks/archive/storage/object-store.js';
import { S3Store, parseS3Url } from '../../../src/sinks/archive/storage/s3-store.js';
import { ArchiveError } from '../../../src/sinks/archive/archive-error.js';
import { startS3, type TestS3 } from './s3rver-helper.js';

let s3: TestS3;
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  await s3?.stop();
});

const backends: [string, (dir: string, run: number) => ObjectStore][] = [
  ['local directory', (dir) => new LocalStore(join(dir, 'archive'))],
  ['s3 (s3rver)', (_dir, run) => new S3Store({ url: `s3://${s3.bucket}/run${run}/arch`, endpoint: s3.endpoint, client: s3.client })],
];

let runs = 0;
describe.each(backends)('ObjectStore contract: %s', (_name, open) => {
  let dir: string;
  let store: ObjectStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-store-'));
    store = open(dir, runs++);
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function localFile(content: string): Promise<string> {
    const path = join(await store.tempDir(), `src-${Math.random().toString(36).slice(2)}.parquet.tmp`);
    await writeFile(path, content);
    return path;
  }

  it('puts, lists by prefix (sorted), gets and deletes', async () => {
    await store.putFile('resolution=raw/date=2026-01-01/hour=00/part-0-1-2.parquet', await localFile('a'));
    await store.putFile('resolution=raw/date=2026-01-01/hour=01/part-0-3-4.parquet', await localFile('bb'));
    await store.putFile('resolution=1m/date=2026-01-01/hour=00/part-1-1-9.parquet', await localFile('ccc'));
    expect(await store.list('resolution=raw/')).toEqual([
      { key: 'resolution=raw/date=2026-01-01/hour=00/part-0-1-2.parquet', size: 1 },
      { key: 'resolution=raw/date=2026-01-01/hour=01/part-0-3-4.parquet', size: 2 },
    ]);
    expect((await store.list('resolution=raw/date=2026-01-01/hour=01/part-0-')).map((o) => o.key)).toEqual([
      'resolution=raw/date=2026-01-01/hour=01/part-0-3-4.parquet',
    ]);
    expect((await store.list('')).length).toBe(3);
    const out = join(dir, 'out', 'x.parquet');
    await store.getFile('resolution=1m/date=2026-01-01/hour=00/part-1-1-9.parquet', out);
    expect(await readFile(out, 'utf8')).toBe('ccc');
    await store.delete(['resolution=raw/date=2026-01-01/hour=00/part-0-1-2.parquet', 'resolution=raw/nope.parquet']);
    expect((await store.list('resolution=raw/')).map((o) => o.key)).toEqual(['resolution=raw/date=2026-01-01/hour=01/part-0-3-4.parquet']);
  });

  it('replaces an existing key whole (a replay rewrites the same name)', async () => {
    const key = 'resolution=raw/date=2026-01-01/hour=00/part-0-1-2.parquet';
    await store.putFile(key, await localFile('first version'));
    await store.putFile(key, await localFile('second'));
    expect(await store.list('resolution=raw/')).toEqual([{ key, size: 6 }]);
    const out = join(dir, 'y');
    await store.getFile(key, out);
    expect(await readFile(out, 'utf8')).toBe('second');
  });

  it('getFile of a missing key fails with ARCHIVE_NOT_FOUND and leaves no file', async () => {
    const out = join(dir, 'missing', 'z');
    await expect(store.getFile('resolution=raw/none.parquet', out)).rejects.toMatchObject({ code: 'ARCHIVE_NOT_FOUND' });
    expect(await readdir(join(dir, 'missing')).catch(() => [])).toEqual([]);
  });

  it('replaceObjects leaves the new object and none of the old ones', async () => {
    const parts = ['resolution=raw/date=2026-01-01/hour=00/part-0-1-2.parquet', 'resolution=raw/date=2026-01-01/hour=00/part-0-3-9.parquet'];
    for (const k of parts) await store.putFile(k, await localFile(k));
    await replaceObjects(store, 'resolution=raw/date=2026-01-01/hour=00/part-0-1-9.parquet', await localFile('merged'), parts);
    expect((await store.list('resolution=raw/')).map((o) => o.key)).toEqual(['resolution=raw/date=2026-01-01/hour=00/part-0-1-9.parquet']);
  });

  it('never lists temporary files', async () => {
    await localFile('temp only');
    await store.putFile('resolution=1h/date=2026-01-01/hour=00/part-0-1-1.parquet', await localFile('x'));
    expect((await store.list('')).map((o) => o.key)).toEqual(['resolution=1h/date=2026-01-01/hour=00/part-0-1-1.parquet']);
  });
});

describe('archive roots', () => {
  it('parses s3 urls and rejects bad ones', () => {
    expect(parseS3Url('s3://bucket/a/b')).toEqual({ bucket: 'bucket', prefix: 'a/b/' });
    expect(parseS3Url('s3://bucket')).toEqual({ bucket: 'bucket', prefix: '' });
    expect(() => parseS3Url('s3://')).toThrow(ArchiveError);
    expect(() => parseS3Url('s3://B_ad/x')).toThrow(/expected s3:\/\/bucket/);
  });

  it('local keys cannot escape the root', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-store-'));
    const store = new LocalStore(dir);
    await expect(store.putFile('../evil.parquet', join(dir, 'x'))).rejects.toMatchObject({ code: 'ARCHIVE_BAD_KEY' });
    await rm(dir, { recursive: true, force: true });
  });
});
